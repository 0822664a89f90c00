"""The French catalog is whole, consistent with the source, and compiled: what the app loads is what was written."""

from __future__ import annotations

import re

from babel.messages.mofile import read_mo

from web import i18n

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%\(\w+\)0\d[dif]")


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def test_every_text_of_the_source_is_in_the_catalog_and_translated():
    source = _ids(i18n.extract())
    for locale in i18n.locales():
        catalog = i18n.read_catalog(locale)
        absent = sorted(str(i) for i in source - _ids(catalog))
        assert not absent, f"not in {locale}: run `flask --app web translate update`: {absent}"
        assert not i18n.missing(catalog), f"untranslated or fuzzy in {locale}: {i18n.missing(catalog)}"


def test_translations_keep_every_placeholder():
    for locale in i18n.locales():
        for message in i18n.read_catalog(locale):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(PLACEHOLDER.findall(ids[-1]))
            for string in filter(None, strings):  # an empty one is the first test's failure
                found = set(PLACEHOLDER.findall(string))
                # a plural's singular may say "one" instead of %(num)s
                assert found == wanted or (len(ids) > 1 and found == wanted - {"%(num)s"}), (message.id, string)


def test_the_compiled_catalog_is_the_written_one():
    for locale in i18n.locales():
        written = {_plain(m.id): _plain(m.string) for m in i18n.read_catalog(locale)
                   if m.id and not m.fuzzy and all(_plain(m.string))}
        with i18n.po_path(locale).with_suffix(".mo").open("rb") as f:
            compiled = {_plain(m.id): _plain(m.string) for m in read_mo(f)
                        if m.id and all(_plain(m.string))}
        assert compiled == written, f"{locale}: run `flask --app web translate compile` and commit the .mo"


def _plain(string) -> tuple:
    return tuple(string) if isinstance(string, (list, tuple)) else (string,)


def test_french_sets_a_narrow_no_break_space_before_colons_and_question_marks():
    for message in i18n.read_catalog("fr"):
        for string in filter(None, _plain(message.string) if message.id else ()):
            assert i18n.french_typography(string) == string, f"{string!r}: run `flask --app web translate update`"


def test_what_is_left_goes_out_as_json_and_comes_back_translated(tmp_path, monkeypatch):
    import json
    import shutil

    from babel.messages.pofile import write_po
    from click.testing import CliRunner

    shutil.copytree(i18n.CATALOGS, tmp_path / "translations")
    monkeypatch.setattr(i18n, "CATALOGS", tmp_path / "translations")
    catalog = i18n.read_catalog("fr")
    catalog["Why not earlier: %(why)s"].string = ""
    catalog.add(("%(num)s new text", "%(num)s new texts"), ("", ""))
    with i18n.po_path("fr").open("wb") as f:
        write_po(f, catalog)
    runner = CliRunner()
    todo = json.loads(runner.invoke(i18n.translate_group, ["todo"]).output)
    assert todo == {"Why not earlier: %(why)s": "",
                    "%(num)s new text": {"plural": "%(num)s new texts", "fr": ["", ""]}}
    todo["Why not earlier: %(why)s"] = "Pourquoi pas plus tôt: %(why)s"
    todo["%(num)s new text"]["fr"] = ["%(num)s nouveau texte", "%(num)s nouveaux textes"]
    (tmp_path / "todo.json").write_text(json.dumps(todo))
    assert runner.invoke(i18n.translate_group, ["fill", str(tmp_path / "todo.json")]).exit_code == 0
    filled = i18n.read_catalog("fr")
    assert filled["Why not earlier: %(why)s"].string == "Pourquoi pas plus tôt\u202f: %(why)s"
    assert filled["%(num)s new text"].string == ("%(num)s nouveau texte", "%(num)s nouveaux textes")
    assert runner.invoke(i18n.translate_group, ["check"]).exit_code == 0, "nothing of the source is left"


def test_the_schedulers_refusals_are_marked_and_worded_apart():
    """A refusal of the scheduler is an English template marked with N_, its values given apart (`words=`, or
    `Said(N_(...), **words)` for one field of a form): web words it in the reader's language. An f-string or an
    unmarked text would reach a French page in English; a placeholder without its word would not render."""
    import ast
    import inspect

    from scheduler import errors

    refusals = {name for name, c in vars(errors).items() if inspect.isclass(c) and issubclass(c, errors.DomainError)}
    found: list[str] = []

    def marked(node) -> str | None:
        """The template of N_("..."), implicit concatenations joined."""
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_" and node.args \
                and isinstance(node.args[0], ast.Constant):
            return node.args[0].value
        return None

    def text(node, where: str, words: set[str] | None) -> None:
        """A refusal's text: marked (with a word for each placeholder), a Said, or computed elsewhere."""
        if isinstance(node, (ast.JoinedStr, ast.BinOp)) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            found.append(f"{where}: not marked with N_: {ast.unparse(node)[:80]}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Said":
            said(node, where)
        elif (template := marked(node)) is not None and words is not None:
            wanted = set(re.findall(r"%\((\w+)\)", template))
            if wanted != words:
                found.append(f"{where}: {template!r} has words {sorted(words)}, wants {sorted(wanted)}")

    def said(node, where: str) -> None:
        if not node.args:
            found.append(f"{where}: Said() takes a text marked with N_")
        else:  # a marked text, or one of a table of them (GIVE[name])
            text(node.args[0], where, {k.arg for k in node.keywords})

    def values(node, where: str) -> None:
        """The messages of a form's refusal, {field: text}."""
        if isinstance(node, ast.Dict):
            for value in node.values:
                text(value, where, None if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "Said"
                     else set())
        elif isinstance(node, ast.DictComp):
            text(node.value, where, set())

    for path in sorted((i18n.ROOT / "scheduler").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]:
            problems_of = isinstance(function, ast.FunctionDef) and ("problem" in function.name or
                                                                       "unknown" in function.name)
            for node in ast.walk(function):
                where = f"{path.relative_to(i18n.ROOT)}:{getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in refusals and node.args:
                    given = next((k.value for k in node.keywords if k.arg == "words"), None)
                    words = {k.value for k in given.keys if isinstance(k, ast.Constant)} \
                        if isinstance(given, ast.Dict) else (set() if given is None else None)
                    text(node.args[0], where, words)
                elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "refuse_fields" and node.args:
                    values(node.args[0], where)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        if isinstance(target, ast.Subscript) and getattr(target.value, "id", None) == "problems":
                            text(node.value, where, set())
                        elif getattr(target, "id", None) == "problems" and node.value is not None:
                            values(node.value, where)
                elif isinstance(node, ast.Return) and problems_of and node.value is not None:
                    values(node.value, where) if isinstance(node.value, (ast.Dict, ast.DictComp)) \
                        else text(node.value, where, set())
    assert not sorted(set(found)), "\n".join(sorted(set(found)))
