"""A test-only domain whose verifier takes 50 ms per item, so a run can be killed mid-way."""

import time

from mdrl.domains.base import Domain, Verdict, register


def _verify(answer, ground_truth, extra_info=None, **options):
    time.sleep(0.05)
    return Verdict.right() if answer == str(ground_truth) else Verdict.wrong("mismatch")


register(Domain(name="sleepytest", data_sources=("sleepytest",), verify=_verify, timeout_s=5.0))
