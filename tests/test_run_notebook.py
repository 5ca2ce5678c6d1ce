"""The notebook runner: papermill parameters, atomic in-place write, no volatile metadata."""

import hashlib
import importlib.util
import json

import nbformat
import pytest

from analysis.io import paths

spec = importlib.util.spec_from_file_location("run_notebook", paths.ROOT / "scripts" / "run_notebook.py")
run_notebook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_notebook)


def _notebook(path, body="print(size * 2)"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("size = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_runs_in_place_with_parameters_and_is_byte_stable(tmp_path):
    nb_path = _notebook(tmp_path / "01-demo.ipynb")
    run_notebook.run(nb_path, {"size": 21})
    first = nb_path.read_bytes()
    run_notebook.run(nb_path, {"size": 21})
    assert hashlib.sha256(nb_path.read_bytes()).digest() == hashlib.sha256(first).digest()
    nb = json.loads(first)
    assert "papermill" not in nb["metadata"]
    assert [c["id"] for c in nb["cells"]] == ["01-demo-000", "01-demo-001", "01-demo-002"]
    assert nb["cells"][-1]["outputs"][0]["text"] == ["42\n"]
    assert all("execution" not in c["metadata"] and "papermill" not in c["metadata"]
               for c in nb["cells"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01-demo.ipynb"]


def test_a_failing_notebook_leaves_the_original_untouched(tmp_path):
    nb_path = _notebook(tmp_path / "02-fails.ipynb", body="raise RuntimeError('boom')")
    before = nb_path.read_bytes()
    with pytest.raises(Exception, match="boom"):
        run_notebook.run(nb_path, {})
    assert nb_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["02-fails.ipynb"]


def test_split_stream_outputs_are_merged():
    outs = [nbformat.v4.new_output("stream", name="stdout", text="a\n"),
            nbformat.v4.new_output("stream", name="stdout", text="b\n"),
            nbformat.v4.new_output("stream", name="stderr", text="w\n"),
            nbformat.v4.new_output("stream", name="stdout", text="c\n")]
    merged = run_notebook._merge_streams(outs)
    assert [(o["name"], "".join(o["text"])) for o in merged] == [
        ("stdout", "a\nb\n"), ("stderr", "w\n"), ("stdout", "c\n")]


def test_progress_bars_are_dropped_but_warnings_kept():
    outs = [nbformat.v4.new_output("stream", name="stderr",
                                   text="runs: 100%|##########| 1000/1000 [00:03<00:00, 290.12it/s]\n"),
            nbformat.v4.new_output("stream", name="stderr",
                                   text="\rboot:  50%|#####     | 5/10 [00:01<00:01, 4.1it/s]\rboot: 100%|##########| 10/10 [00:02<00:00, 4.2it/s]\nUserWarning: check this\n"),
            nbformat.v4.new_output("stream", name="stdout", text="100%|x| [not progress\n")]
    kept = run_notebook._drop_progress(outs)
    assert [(o["name"], "".join(o["text"])) for o in kept] == [
        ("stderr", "UserWarning: check this\n"), ("stdout", "100%|x| [not progress\n")]


def test_an_edition_run_reports_untranslated_figure_strings(tmp_path, capsys):
    """With labels other than en the runner reports the figure strings the glossary left in
    English, and the executed notebook keeps no trace of the report cell."""
    body = ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "from analysis.plots.edition import save_figure\n"
            "fig, ax = plt.subplots()\nax.set_title('Respondents per community')\n"
            "ax.set_xlabel('a label nobody translated')\n"
            "_ = save_figure(fig, 'demo', labels, directory='figs')")
    nb_path = _notebook(tmp_path / "03-edition.ipynb", body=body)
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[0].source = "labels = 'en'"
    nbformat.write(nb, nb_path)
    run_notebook.run(nb_path, {"labels": "zh"})
    err = capsys.readouterr().err
    assert "03-edition.ipynb: 1 figure strings left untranslated in the 'zh' edition" in err
    assert "'a label nobody translated'" in err and "Respondents" not in err
    cells = json.loads(nb_path.read_text())["cells"]
    assert len(cells) == 3 and not any(run_notebook.REPORT_TAG in c["metadata"].get("tags", [])
                                       for c in cells)
    assert (tmp_path / "figs" / "zh" / "demo.png").exists()
