"""A test-only domain whose verifier hangs or crashes on demand (loaded via MDRL_PLUGINS)."""

import os
import time

from mdrl.domains.base import Domain, Verdict, Wording, register


def _verify(answer, ground_truth, extra_info=None, **options):
    if answer == "hang":
        while True:
            time.sleep(0.05)
    if answer == "die":
        os._exit(3)
    if answer == "raise":
        raise RuntimeError("boom")
    return Verdict.right() if answer == str(ground_truth) else Verdict.wrong("mismatch")


register(Domain(name="slowtest", data_sources=("slowtest",), verify=_verify,
                wording={"en": Wording(task="a test item", instruction="state the answer within <answer> </answer> tags.")},
                difficulty=lambda row: 0.0, gold=None, timeout_s=1.0))
