"""A service added after the auditor tools were written — here a small training-records service
whose package is put beside the real ones — is verified, exported and replayed by them as it is,
once its package declares itself (``SERVICE``). Embedded parts: SQLite store, the embedded view store."""

import sys
import textwrap

import pytest
from click.testing import CliRunner

import services
from kernel import views
from kernel.outbox import Outbox
from kernel.projection import ProjectionRunner
from kjfp.bootstrap import declarations
from kjfp.cli import main
from tests.auditing import assert_replay_equals_views_and_catches_a_hand_edit
from tests.infrastructure import settings_for

TRAINING = '''
"""Training: sessions an expert held for a village (a service the audit code has never seen)."""
from eventsourcing.domain import Aggregate, event
from pymongo import UpdateOne

from kernel.application import ServiceApplication
from kernel.declaration import Declaration
from kernel.projection import Projection


class Session(Aggregate):
    @event("TrainingHeld")
    def __init__(self, village, trainees, trainer_id_number):
        self.village, self.trainees = village, trainees

    @event("TraineesCorrected")
    def correct(self, trainees):
        self.trainees = trainees


class TrainingApplication(ServiceApplication):
    name = "training"

    def hold(self, village, trainees, trainer_id_number):
        session = Session(village, trainees, trainer_id_number)
        self.save(session)
        return session

    def correct(self, session_id, trainees):
        session = self.repository.get(session_id)
        session.correct(trainees)
        self.save(session)


class TrainingProjection(Projection):
    name = "training.sessions"
    collections = ("training_sessions",)

    def on_TrainingHeld(self, position, e):
        yield "training_sessions", UpdateOne({"_id": str(e.originator_id)}, {"$set": {
            "village": e.village, "trainees": e.trainees, "position": position}}, upsert=True)

    def on_TraineesCorrected(self, position, e):
        yield "training_sessions", UpdateOne({"_id": str(e.originator_id)}, {
            "$set": {"trainees": e.trainees}, "$addToSet": {"corrections": position}}, upsert=True)


SERVICE = Declaration("training", TrainingApplication, (TrainingProjection,), ("trainer_id_number",))
'''


@pytest.fixture
def training(tmp_path, monkeypatch):
    package = tmp_path / "extra" / "training"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(TRAINING), encoding="utf-8")
    monkeypatch.setattr(services, "__path__", [*services.__path__, str(tmp_path / "extra")])
    yield declarations()["training"]
    sys.modules.pop("services.training", None)


def test_a_new_service_is_verified_exported_and_replayed_without_changes_to_the_tools(
    training, tmp_path
):
    settings = settings_for(tmp_path)
    app = training.open(settings)
    sessions = [
        app.hold("西岭村", 30, "371321199501010017"),
        app.hold("东岭村", 12, "371321199501010025"),
    ]
    app.correct(sessions[0].id, 31)
    Outbox("training", app, training.personal_fields).publish_pending(lambda batch: None)
    live = views.connect(settings)
    ProjectionRunner(app, live, training.projections[0]()).run()
    app.close()

    audit = ["audit", "--data-dir", str(settings.data_dir)]
    verified = CliRunner().invoke(main, [*audit, "verify", "training"])
    assert verified.exit_code == 0, verified.output
    assert (
        "training: 3 events, chained to position 3" in verified.output
        and "training: OK" in verified.output
    )
    exported = CliRunner().invoke(
        main, [*audit, "export", "training", "--out", str(tmp_path / "out")]
    )
    assert (
        exported.exit_code == 0
        and "371321199501010017" not in (tmp_path / "out/training.jsonl").read_text()
    )
    assert_replay_equals_views_and_catches_a_hand_edit(
        settings, live, ["training"], "training_sessions"
    )
