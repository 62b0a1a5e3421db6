import time
from sync.client import SyncClient
from sync import client as client_module
from app.base.extensions import db
from app.syncing.devices import register
from tests.badlink import BadLink
from tests.conftest import TEST_KEYS
from tests.hub_process import HubProcess
from tests.live import record_week
from tests.school import build_tiny_school


def test_debug(app, db_url, tmp_path):
    school = build_tiny_school()
    _, token = register("Кабинет 7А", [school["c7"]])
    db.session.commit()
    hub = HubProcess(db_url, tmp_path / "var", TEST_KEYS).start()
    t0 = time.monotonic()
    orig = SyncClient._post
    def traced(self, ops, pull):
        start = time.monotonic()
        try:
            a = orig(self, ops, pull)
            print(f"{start-t0:6.2f} ok   ops={len(ops)} pull={pull} {time.monotonic()-start:.2f}s link={self.link.push.size},{self.link.throughput and round(self.link.throughput)},{self.link.uptime},{self.link.push.unit_bytes and round(self.link.push.unit_bytes)}")
            return a
        except Exception as e:
            print(f"{start-t0:6.2f} FAIL ops={len(ops)} pull={pull} {time.monotonic()-start:.2f}s {type(e).__name__}")
            raise
    SyncClient._post = traced
    try:
        with BadLink(("127.0.0.1", hub.port), kbps=32, rtt=0.2, cut_every=10, lifetime=150) as link:
            c = SyncClient(tmp_path / "c.db")
            c.connect(link.url, token)
            print(c.sync().summary())
            record_week(c, school)
            print(c.sync().summary(), link.bytes_up, link.bytes_down)
    finally:
        SyncClient._post = orig
        hub.stop()
