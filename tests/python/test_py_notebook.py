"""The notebook session of the README (notebook_session.py), run whole against a running
`fabrique up`: ingest, a training set as a DataFrame, a model trained, served and predicted,
outcomes logged and drift read."""

import subprocess
import sys

import notebook_session


def test_the_notebook_session_runs_end_to_end(stubs, running, capsys):
    shown = notebook_session.session(running.data_dir)

    training = shown["training"]
    assert len(training) == 400
    assert {"customer_id", "event_time", "label", "amount_30d", "country"} <= set(training)
    assert training.amount_30d.notna().all()  # Every label is a day after its features.

    run = shown["run"]
    assert run.registered_version.model == "nb-churn" and run.registered_version.version >= 1

    predictions = shown["predictions"]
    assert len(predictions) == 5 and predictions.prediction_id.is_unique
    assert set(predictions.version) == {run.registered_version.version}
    assert all(issues == [] for issues in predictions.issues)

    assert shown["logged"].accepted == 5 and shown["logged"].rejected == 0
    assert {"nb_payments:amount_30d", "nb_payments:country"} <= set(shown["drift"].feature)
    printed = capsys.readouterr().out
    assert "prediction_id" in printed and "amount_30d" in printed


def test_the_session_is_a_script_with_usage():
    # Without a factory it fails at connect, saying what is missing, not with a stack of calls.
    result = subprocess.run([sys.executable, notebook_session.__file__, "/nonexistent"],
                            capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": ":".join(sys.path)})
    assert result.returncode == 1
    assert "ConfigurationError" in result.stderr and "endpoints.tsv" in result.stderr
