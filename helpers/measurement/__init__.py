"""What an instrument records of an ideal curve: the study's degradations (``degrade``) and the
realistic measurement model (``instrument``); and measured curves read from files (``files``: text
columns and NXcanSAS, q in 1/Å, checked)."""
