"""Helpers of the nanoparticle X-ray scattering study: every notebook imports its work from here.

Modules: ``paths`` (every path, the figure saver), ``structures`` (pyNanoMatBuilder particles and
their size descriptors), ``scattering`` (the Debye equation), ``dataset`` (the simulated library).
"""
