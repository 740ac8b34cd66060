"""Tokens printed by an earlier lfstress still replay and explain.

A token is what a user pastes into a bug report or a CI log; it must outlive
the release that printed it. These were printed by lfstress 0.1.0 (``lfstress
run --json`` over the built-in scenarios, and ``lfstress explore``), and are
kept verbatim: each must replay to the same structure, options, length and
violation kinds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

RECORDED = [
    # (token, structure, options, steps, kinds)
    ("lfs1.enjaNYldCsJADAbfc5RS6mZ_qhUC3kTi-oEF3bbGFQoeXin4MMzAmDxsqajYFR3foEnyHVrqLEzjj1mu2P4HZfMxtv9KlMU1-44b9p2jm3B"
     "OGOCHoAhtcGRZYKbr2V7Tcz31hwj42Osl8ReEfyZ4",
     "msqueue/naive", {"cleanup": 1}, 20, {"aba", "severed", "lost-value"}),
    ("lfs1.enjaHcpLCoNAEEXReS0lBLW0_BAocCfSdr-YQOKv7IHg4hUHhzu5pn9bIiLSzQ0DAk3qf3BjnJXpe5k14B4OjHdfQl6zR53wJaOP4i1NHwpI"
     "DX7mTOYVZm7vbJvWva0aAXKpXF_yCfgKI0U",
     "msqueue/tagged", {"cleanup": 1, "tag_bits": 16}, 15, {"aba"}),
    ("lfs1.enjaK7YtKUrNTEot0s9LzCxL5cq35cq0NdQx4iqwLcgvqAFiHTAuLc6wMoFQplzJtgZ6hlqGZnoGWiZcGbaGhubmaRZmlqbm5mY6xqZcxckw"
     "Q-MTkxIdTI0NTM3MUk1SUlKMAZzIIVM",
     "treiber/naive", {}, 21, {"aba"}),
    ("lfs1.enjaNYy7CsMwDAB3fUowqRXJohQE_ZPgh0g8xcTu1o9vaOlw3E3XdZxWk523EbfNChx6xZrq6IpQFd0CTdvR3hfuy6vvD_4pQFY_44Qy-4lh"
     "V2KhjAuL3dlRgJ7__zWm-Azkg4hxKYU-fhElgg",
     "treiber/tagged", {"tag_bits": 1}, 21, {"aba"}),
    ("lfs1.enjaLYxBCoMwFET3_ygh2J-Y1rTwwZuUaKbWRdUag5sevhJcDG94DJPkk74ZGZctDAMizXKUZzduSQyNRxaJKIvfSY2p8GH1aagXVnVllDUV"
     "K0dv8QzvYDtcby9de0p9ud3XsIR1zlNs2boA17CJzf0P2XcrIA",
     "msqueue/tagged", {"cleanup": 0, "tag_bits": 1}, 28,
     {"aba", "use-after-free", "duplicate-value", "not-linearizable"}),
    ("lfs1.enjaNYxJCoAwEATv85QQNBsqwoA_kWQyogc3Qjz5eEUifSgoqE64pjNz5nrzy8WwIyyo4cDIn74LJW8feyOLAUIlbKWFUZUSDmb01Ol3piE3"
     "SdtCov989MGPpRtiiME6xR0F-wCdmimI",
     "msqueue/naive", {"cleanup": 0}, 27, {"aba", "use-after-free", "duplicate-value", "not-linearizable"}),
    ("lfs1.enjaHcs7CsMwDADQXUcpgcYYN_Eg6E2KIglUyMeJ7KE9fULGNzzHxfemTZ9GfzoENuRZaW0FQ2flU-1Qt22Wi0urtFaM8MUABUXvCIz9IyQw"
     "zGOKMo3p1Q-5CwM4o7rT750jTyrEJxRII5M",
     "msqueue/hazard", {"cleanup": 1, "hp_threshold": 1, "mutant": 3}, 15, {"use-after-free"}),
]


def _lfstress(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stress", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.mark.parametrize("token, structure, options, steps, kinds", RECORDED,
                         ids=[f"{r[1]}-{i}" for i, r in enumerate(RECORDED)])
def test_recorded_token_explains_as_it_did(token, structure, options, steps, kinds, tmp_path):
    proc = _lfstress("explain", "--json", token, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["structure"], report["options"], report["steps"]) == (structure, options, steps)
    assert report["kind"] == report["violations"][0]["kind"]
    assert {v["kind"] for v in report["violations"]} == kinds


@pytest.mark.parametrize("token", [r[0] for r in RECORDED[::3]])
def test_recorded_token_replays_deterministically(token, tmp_path):
    proc = _lfstress("replay", token, cwd=tmp_path)
    # 1: the violation is there again (3 would mean the trace no longer matches the token's)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "not deterministic" not in proc.stdout + proc.stderr
