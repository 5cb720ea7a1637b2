"""Snippets: choosing the excerpt and marking matches safely."""

from __future__ import annotations

from search.highlight import make_snippet
from search.model import Snippet
from search.plan import plan_query


def test_html_escapes_text_and_marks_spans() -> None:
    """Only <mark> is markup; everything from the document is escaped."""
    snippet = Snippet('a <b>"x"</b> & y', spans=((3, 4),))
    assert snippet.html() == 'a &lt;<mark>b</mark>&gt;&quot;x&quot;&lt;/b&gt; &amp; y'


def test_marked_uses_the_callers_markers_and_escapes_nothing() -> None:
    """The CLI chooses its own markers."""
    assert Snippet("投诉事项", spans=((0, 2),)).marked("[", "]") == "[投诉]事项"


def test_snippet_window_holds_the_matches_of_a_long_text() -> None:
    """In a long text the excerpt is cut around the matches, with ellipses."""
    text = "无关内容。" * 60 + "这里是关于物业管理费的投诉。" + "其他内容。" * 60
    snippet = make_snippet(text, plan_query("物业管理费").leaves)
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert "«物业管理费»" in snippet.marked()


def test_traditional_text_is_highlighted_for_a_simplified_query() -> None:
    """The original characters are shown and marked."""
    assert make_snippet("本人投訴某律師", plan_query("投诉 律师").leaves).marked() == "本人«投訴»某«律師»"


def test_english_highlight_follows_the_stemmer() -> None:
    """'hearing' marks 'hearings' too, whole words only."""
    marked = make_snippet("Missed hearings and one hearing; rehearing.", plan_query("hearing").leaves).marked()
    assert marked == "Missed «hearings» and one «hearing»; rehearing."


def test_without_matches_the_snippet_is_the_opening() -> None:
    """A hit found through its title shows the start of its text."""
    assert make_snippet("第一句。第二句。", plan_query("标题").leaves) == Snippet("第一句。第二句。")
