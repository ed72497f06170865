"""The figures' headings are the paper's captions (artifact/host/report/captions.py), each taken from the sentence
of ispa18-final that introduces the figure (the extracted text keeps no caption lines)."""
import os

import pytest

from artifact.host.report.captions import CAPTIONS
from artifact.host.report.render import figure_heading

PAPER_TEXT = "/work/shared/paper/ispa18-final.txt"


def test_each_paper_figure_is_headed_by_its_caption_and_numbered_in_paper_order():
    assert figure_heading("fig28_dequantization") == "Fig 28: " + CAPTIONS[28].caption
    assert figure_heading("fig06_operations").startswith("Fig 6: How different types of neural network operations")
    assert figure_heading("fig05_motivation") == "Fig 5: " + CAPTIONS[5].caption != "Fig 5: motivation"
    assert figure_heading("beyond_litert").startswith("Beyond the paper: LiteRT")   # the registry's title
    assert figure_heading("beyond_unstructured_pruning").startswith("Beyond the paper, a contrast: TF-MOT")
    assert figure_heading("advisor_fronts") == "Advisor fronts"


def test_every_paper_figure_the_report_draws_has_a_caption():
    from artifact.core.techniques import figures

    stems = ["fig05_motivation", "fig06_operations", "fig24_thresholds", "fig27_memory", "fig28_dequantization",
             *[s for s in figures() if s.startswith("fig")]]
    assert sorted({int(s[3:5]) for s in stems}) == sorted(CAPTIONS)


def test_each_caption_rests_on_a_sentence_of_the_paper():
    if not os.path.exists(PAPER_TEXT):
        pytest.skip(f"the paper's text ({PAPER_TEXT}) is not on this machine")
    with open(PAPER_TEXT) as handle:
        paper = handle.read()
    for number, entry in CAPTIONS.items():
        assert entry.source in paper, (number, entry.source)
        assert f"Figure {number}" in paper or f"Figures {number}" in paper or f"and {number}" in paper, number
