"""A squad's notebook session with the Python client, cell by cell: features ingested from a
DataFrame, a point-in-time training set read back as a DataFrame, a model trained on it, served
and predicted, then outcomes logged and drift read.

Run it against a local factory (`fabrique up --data_dir fabrique-data` in another terminal):

    python3 notebook_session.py fabrique-data

or against a cluster with FABRIQUE_TARGET, FABRIQUE_TOKEN and FABRIQUE_CA set and no argument.
The README's Python section shows the same cells.
"""

import sys
import time

import numpy as np
import pandas as pd

import fabrique


def session(data_dir=None):
    """Runs every cell; returns what the last ones showed (for the test that runs it)."""
    # In [1]: connect (a local `fabrique up`, or $FABRIQUE_TARGET / $FABRIQUE_TOKEN)
    fab = fabrique.connect(data_dir=data_dir)

    # In [2]: the features, defined and ingested from a DataFrame
    fab.features.apply({
        "entities": [{"name": "nb_customer", "join_key": "customer_id",
                      "owner_squad": "risk"}],
        "feature_groups": [{"name": "nb_payments", "entity": "nb_customer",
                            "owner_squad": "risk",
                            "features": [{"name": "amount_30d", "type": "FEATURE_TYPE_DOUBLE"},
                                         {"name": "country", "type": "FEATURE_TYPE_STRING"}]}]})
    rng = np.random.default_rng(7)
    customers = [f"c{i}" for i in range(400)]
    now = pd.Timestamp.now(tz="UTC").floor("s")
    payments = pd.DataFrame({
        "customer_id": customers,
        "event_time": now - pd.Timedelta(days=2),
        "amount_30d": rng.exponential(80.0, len(customers)).round(2),
        "country": rng.choice(["FR", "DE", "IT"], len(customers)),
    })
    fab.features.ingest(payments, group="nb_payments")

    # In [3]: churn labels a day later, and the training set the model will see
    labels = pd.DataFrame({
        "customer_id": customers,
        "event_time": now - pd.Timedelta(days=1),
        "label": (payments.amount_30d > 100).astype(int),
    })
    training = fab.features.training_set(["nb_payments:amount_30d", "nb_payments:country"],
                                         labels)
    print(training.head())

    # In [4]: train on the same features and labels (a progress bar in a notebook)
    run = fab.train.submit({
        "model_name": "nb-churn", "use_case_id": "nb-churn",
        "features": [{"group": "nb_payments", "feature": "amount_30d"},
                     {"group": "nb_payments", "feature": "country"}],
        "task": "TASK_BINARY_CLASSIFICATION", "family": {"mlp": {"hidden_sizes": [16]}},
        "optimizer": {"learning_rate": 0.02}, "epochs": 5, "batch_size": 64,
        "split": {"random": {"validation_fraction": 0.2, "seed": 1}}, "seed": 3,
    }, labels=labels, squad="risk")
    version = run.registered_version.version
    print(fab.models.versions("nb-churn")[["version", "metrics"]])

    # In [5]: serve it: production points at the new version
    fab.models.set_alias("nb-churn", "production", version)
    deadline = time.monotonic() + 120
    while True:  # The inference server loads the version within seconds.
        try:
            predictions = fab.predict("nb-churn", entities=customers[:5])
            break
        except (fabrique.errors.NotFound, fabrique.errors.FailedPrecondition):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)

    # In [6]: predict by entity key: the server reads the features itself
    print(predictions[["entity", "version", "label", "probability", "prediction_id"]])

    # In [7]: what really happened, joined to the predictions; the drift of each feature
    outcomes = predictions[["prediction_id"]].assign(label=labels.label[:5].to_numpy())
    logged = fab.monitor.log_outcomes(outcomes)
    drift = fab.monitor.drift("nb-churn")
    print(logged)
    print(drift[["name", "status", "metric", "value"]])
    fab.close()
    return {"training": training, "run": run, "predictions": predictions, "logged": logged,
            "drift": drift}


if __name__ == "__main__":
    session(sys.argv[1] if len(sys.argv) > 1 else None)
