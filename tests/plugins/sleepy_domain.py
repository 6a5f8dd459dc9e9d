"""A test-only domain whose verifier takes 50 ms per item, so a run can be killed mid-way."""

import time

from mdrl.domains.base import Domain, Verdict, Wording, register


def _verify(answer, ground_truth, extra_info=None, **options):
    time.sleep(0.05)
    return Verdict.right() if answer == str(ground_truth) else Verdict.wrong("mismatch")


register(Domain(name="sleepytest", data_sources=("sleepytest",), verify=_verify,
                wording={"en": Wording(task="a test item", instruction="state the answer within <answer> </answer> tags.")},
                difficulty=lambda row: 0.0, gold=None, timeout_s=5.0))
