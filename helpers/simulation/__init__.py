"""Particle -> pair distances -> I(q) -> library on disk: ``structures`` (pyNanoMatBuilder
particles and their size descriptors), ``debye`` (the Debye scattering equation), ``library`` (the
simulated curves with their manifest)."""
