"""What an instrument records of an ideal curve: the study's degradations (``degrade``) and the
realistic measurement model (``instrument``)."""
