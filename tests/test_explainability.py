"""The explainability chapter's steps."""

import numpy as np

from helpers.studies import explainability


def test_reduced_q_profiles_line_up_peaks_of_different_elements():
    """A peak at the same q·Rnn for two elements (so at different q) lands at one place on s."""
    q = np.arange(1, 2000) / 100
    rnn = np.array([2.5, 2.9])
    s_peak = 7.695  # fcc (111) in units of 1/Rnn
    profiles = np.stack([np.exp(-0.5 * ((q - s_peak / r) / 0.02) ** 2) for r in rnn])
    s = np.linspace(1, 40, 3901)
    out = explainability.reduced_q_profiles(q, {"occlusion": profiles}, rnn, s)["occlusion"]
    assert abs(s[np.nanargmax(out)] - s_peak) < 0.02
    assert np.nanmax(out) > 0.95  # both curves peak there: no smearing into two half peaks
    assert np.isnan(out[s > 19.99 * 2.9]).all()  # beyond every curve's q range
    in_q = profiles.mean(axis=0)  # the plain mean over q shows two half-height peaks
    assert in_q.max() < 0.6
