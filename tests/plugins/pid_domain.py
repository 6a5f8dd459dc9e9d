"""A test-only domain that says which process verified the item (loaded via MDRL_PLUGINS)."""

import os

from mdrl.domains.base import Domain, Verdict, Wording, register


def _verify(answer, ground_truth, extra_info=None, **options):
    verdict = Verdict.right() if answer == str(ground_truth) else Verdict.wrong("mismatch")
    verdict.details["pid"] = os.getpid()
    return verdict


register(Domain(name="pidtest", data_sources=("pidtest", "pidtest_alias"), verify=_verify,
                wording={"en": Wording(task="a test item", instruction="state the answer within <answer> </answer> tags.")},
                difficulty=lambda row: 0.0, gold=None, timeout_s=5.0))
