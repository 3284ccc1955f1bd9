"""What an instrument records of an ideal curve: the study's degradations (``degrade``) and the
realistic measurement model (``instrument``); and measured curves read from files (``files``:
text columns and NXcanSAS, q in 1/Å, checked), what their q range can tell (``domain``), and their
fit by the library's exact curves with polydispersity, scale and background (``fit``)."""
