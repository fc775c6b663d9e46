"""Classes and tags panels: every intent signal, confirmations, suggestions."""
import pytest
from PySide6.QtCore import Qt

from tests.widgets.conftest import click
from widgets.classes_panel import ClassesPanel, ClassRow
from widgets.tags_panel import TagRow, TagsPanel

ROWS = [ClassRow(1, "cat", "#e6194b", "1", 12), ClassRow(2, "dog", "#3cb44b", "2", 1),
        ClassRow(3, "bird", "#4363d8", None, 0)]


@pytest.fixture
def classes(qtbot):
    p = ClassesPanel()
    qtbot.addWidget(p)
    p.ask_text = lambda *a: pytest.fail("unexpected dialog")
    p.confirm = lambda *a: pytest.fail("unexpected dialog")
    p.set_classes(ROWS)
    p.show()
    return p


def test_rows_show_name_key_count(classes):
    it = classes.tree.topLevelItem(0)
    assert [it.text(c) for c in range(3)] == ["cat", "1", "12"]
    assert classes.tree.topLevelItem(2).text(1) == ""
    assert classes.order() == [1, 2, 3]


def test_interpolated_boxes_are_counted_apart(classes):
    classes.set_classes([ClassRow(1, "car", "#e6194b", "1", 352, 340)])
    it = classes.tree.topLevelItem(0)
    assert it.text(2) == "12 +340 interp."
    assert "12 boxes drawn, 340 interpolated between video keyframes" in it.toolTip(0)


def test_current_changed_by_click_not_by_set_current(classes, qtbot):
    with qtbot.assertNotEmitted(classes.current_changed):
        classes.set_current(2)
    assert classes.current_id() == 2
    rect = classes.tree.visualItemRect(classes.tree.topLevelItem(2))
    with qtbot.waitSignal(classes.current_changed) as sig:
        click(classes.tree.viewport(), rect.center())
    assert sig.args == [3]


def test_set_classes_keeps_current(classes):
    classes.set_current(2)
    classes.set_classes(list(reversed(ROWS)))
    assert classes.current_id() == 2


def test_add_and_rename(classes, qtbot):
    classes.ask_text = lambda title, label, default="": "  zebra "
    with qtbot.waitSignal(classes.add_requested) as sig:
        classes.actions["add"].trigger()
    assert sig.args == ["zebra"]
    classes.set_current(2)
    asked = []
    classes.ask_text = lambda title, label, default="": asked.append(default) or "wolf"
    with qtbot.waitSignal(classes.rename_requested) as sig:
        classes.actions["rename"].trigger()
    assert sig.args == [2, "wolf"] and asked == ["dog"]
    classes.ask_text = lambda *a: None  # cancelled
    with qtbot.assertNotEmitted(classes.add_requested):
        classes.actions["add"].trigger()


def test_recolor(classes, qtbot):
    classes.set_current(1)
    classes.ask_color = lambda initial: "#00FF00"
    with qtbot.waitSignal(classes.recolor_requested) as sig:
        classes.actions["color"].trigger()
    assert sig.args == [1, "#00ff00"]


def test_reorder_with_buttons(classes, qtbot):
    classes.set_current(1)
    assert not classes.actions["up"].isEnabled()
    with qtbot.waitSignal(classes.reorder_requested) as sig:
        classes.actions["down"].trigger()
    assert sig.args == [[2, 1, 3]]
    classes.set_current(3)
    with qtbot.waitSignal(classes.reorder_requested) as sig:
        classes.actions["up"].trigger()
    assert sig.args == [[1, 3, 2]]
    assert not classes.actions["down"].isEnabled()


def test_delete_confirmation_shows_box_count(classes, qtbot):
    classes.set_current(1)
    seen = []
    classes.confirm = lambda title, text: seen.append(text) or False
    with qtbot.assertNotEmitted(classes.delete_requested):
        classes.actions["delete"].trigger()
    assert "12 boxes" in seen[0] and "cat" in seen[0]
    classes.set_current(2)
    classes.confirm = lambda title, text: seen.append(text) or True
    with qtbot.waitSignal(classes.delete_requested) as sig:
        classes.actions["delete"].trigger()
    assert sig.args == [2] and "1 box" in seen[1]


def test_no_current_disables_edit_actions(qtbot):
    p = ClassesPanel()
    qtbot.addWidget(p)
    p.set_classes(ROWS)
    assert p.current_id() is None
    assert not p.actions["delete"].isEnabled() and p.actions["add"].isEnabled()


TAGS = [TagRow(1, "night", "N"), TagRow(2, "blurry"), TagRow(3, "indoor")]


@pytest.fixture
def tags(qtbot):
    p = TagsPanel()
    qtbot.addWidget(p)
    p.set_tags(TAGS)
    p.show()
    return p


def test_tags_check_and_toggle(tags, qtbot):
    tags.set_checked({2})
    assert tags.checked() == {2}
    assert tags.list.item(0).text() == "night   [N]"
    with qtbot.waitSignal(tags.toggled) as sig:
        tags.list.item(0).setCheckState(Qt.Checked)
    assert sig.args == [1, True]
    with qtbot.waitSignal(tags.toggled) as sig:
        tags.toggle(2)
    assert sig.args == [2, False]
    with qtbot.assertNotEmitted(tags.toggled):
        tags.set_checked({3})
    assert tags.checked() == {3}


def test_tag_add_rename_delete(tags, qtbot):
    tags.ask_text = lambda *a: "sunny"
    with qtbot.waitSignal(tags.add_requested) as sig:
        tags.actions["add"].trigger()
    assert sig.args == ["sunny"]
    tags.list.setCurrentRow(1)
    with qtbot.waitSignal(tags.rename_requested) as sig:
        tags.actions["rename"].trigger()
    assert sig.args == [2, "sunny"]
    tags.confirm = lambda *a: False
    with qtbot.assertNotEmitted(tags.delete_requested):
        tags.actions["delete"].trigger()
    tags.confirm = lambda *a: True
    with qtbot.waitSignal(tags.delete_requested) as sig:
        tags.actions["delete"].trigger()
    assert sig.args == [2]


def test_suggestions(tags, qtbot):
    assert tags.suggestions_box.isHidden()
    tags.set_checked({1})
    tags.set_suggestions([(3, 0.4), (2, 0.91), (1, 0.99), (77, 0.5)])
    assert not tags.suggestions_box.isHidden()
    buttons = tags.suggestion_buttons()
    # already-checked and unknown tags are not suggested; best first
    assert [b.text() for b in buttons] == ["+ blurry  91%", "+ indoor  40%"]
    with qtbot.waitSignal(tags.suggestion_accepted) as sig:
        qtbot.mouseClick(buttons[1], Qt.LeftButton)
    assert sig.args == [3]
    tags.set_suggestions([])
    assert tags.suggestions_box.isHidden()


def test_drop_reorder_emits_new_order(classes, qtbot):
    # What a drag-and-drop leaves behind (the tree reorders its items, then drops):
    tree = classes.tree
    item = tree.takeTopLevelItem(2)
    tree.insertTopLevelItem(0, item)
    with qtbot.waitSignal(classes.reorder_requested) as sig:
        tree.reordered.emit()
    assert sig.args == [[3, 1, 2]]
    classes.set_classes(ROWS)  # the app answers with its order
    with qtbot.assertNotEmitted(classes.reorder_requested):
        tree.reordered.emit()  # nothing moved: no intent
