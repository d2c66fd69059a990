"""The Python package against a live fhd: books, ticks, counters and
histograms as fhctl reads them from the same region.

Environment: FH_BIN_DIR (fhd, fhctl), FH_TESTDATA (../shared/testdata),
FH_CONSUMER_LIB (libfh_consumer.so.0 of the build), PYTHONPATH with python/.
"""
import json
import os
import subprocess
import tempfile
import time
import unittest

import fh

try:
    import numpy
except ImportError:
    numpy = None

BIN = os.environ["FH_BIN_DIR"]
DAY = os.path.join(os.environ["FH_TESTDATA"], "itch50", "bx_sample_20191230.NASDAQ_ITCH50")
PCAP = os.path.join(os.environ["FH_TESTDATA"], "itch50", "elk_nasdaq.pcap")


def fhctl(*args):
    return subprocess.run([os.path.join(BIN, "fhctl"), *args], check=True, capture_output=True, text=True).stdout


class LiveFhd(unittest.TestCase):
    """fhd replays a file, then serves its books until stopped."""

    replay = [DAY]
    trading_date = "2019-12-30"

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.fhd = subprocess.Popen([os.path.join(BIN, "fhd"), "--replay", *cls.replay, "--shm", "py", "--shm-dir",
                                    cls.dir.name, "--trading-date", cls.trading_date, "--max-orders", "65536",
                                    "--max-levels", "65536", "--log-level", "warn"])
        deadline = time.time() + 30
        while True:
            try:
                if '"source":"done"' in fhctl("stats", "--json", "--shm", "py", "--shm-dir", cls.dir.name):
                    break
            except subprocess.CalledProcessError:
                pass
            if time.time() > deadline or cls.fhd.poll() is not None:
                raise RuntimeError("fhd did not replay the file")
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.fhd.terminate()
        cls.fhd.wait(10)
        cls.dir.cleanup()

    def region(self, **options):
        return fh.Region("py", directory=self.dir.name, **options)


class Books(LiveFhd):
    def test_every_book_as_fhctl_prints_it(self):
        with self.region() as r:
            self.assertEqual(r.writer_status, "running")
            self.assertTrue(r.path.endswith("/py"))
            books = [json.loads(line) for line in
                     fhctl("book", "--shm", "py", "--shm-dir", self.dir.name, "--json", "--depth", "0").splitlines()]
            self.assertEqual([b["symbol"] for b in books], [i.symbol for i in r.instruments()])
            self.assertEqual(len(books), 3)  # ALC, BOB, CHAR
            for want in books:
                got = r.book(want["symbol"])
                self.assertEqual(got.locate, want["locate"])
                self.assertEqual(got.status, "normal")
                for side in ("bids", "asks"):
                    levels = [(round(p * fh.PRICE_SCALE), s, n) for p, s, n in want[side]]
                    self.assertEqual(getattr(got, side), levels, want["symbol"] + " " + side)

    @unittest.skipUnless(numpy, "no numpy (python3-numpy): book_arrays() not tested")
    def test_books_as_numpy_arrays(self):
        with self.region() as r:
            for i in r.instruments():
                book = r.book(i.locate)
                bids, asks = r.book_arrays(i.symbol)
                self.assertEqual(bids.dtype, fh.level_dtype())
                self.assertEqual([tuple(int(x) for x in level) for level in bids], book.bids)
                self.assertEqual([tuple(int(x) for x in level) for level in asks], book.asks)
                self.assertTrue(numpy.all(numpy.diff(bids["price"]) < 0) and numpy.all(numpy.diff(asks["price"]) > 0))

    def test_unknown_symbol_and_missing_region(self):
        with self.region() as r:
            self.assertIsNone(r.find("NOPE"))
            with self.assertRaises(KeyError):
                r.book("NOPE")
        with self.assertRaises(fh.Error) as e:
            fh.Region("no-such-region", directory=self.dir.name)
        self.assertEqual(e.exception.status, "FH_ERR_NOT_FOUND")
        self.assertIn("no-such-region", str(e.exception))


class Ticks(LiveFhd):
    def test_every_tick_from_the_oldest_with_dbn_names(self):
        with self.region(start="oldest") as r:
            records, lost = [], 0
            while True:
                p = r.poll(4096)
                lost += p.lost
                if not p.records:
                    break
                records += p.records
            counters = r.counters()
            self.assertEqual(lost, 0)
            self.assertEqual(len(records), counters["ring.records"])
            self.assertEqual([t.index for t in records], list(range(len(records))))
            mbo = [t for t in records if isinstance(t, fh.MboMsg)]
            self.assertTrue(mbo)
            first = mbo[0]
            self.assertEqual(first.rtype, 0xA0)
            self.assertIn(first.action, "ACFTMRN")
            self.assertIn(first.side, "ABN")
            self.assertGreater(first.ts_event, 1577664000 * 10**9)  # on 2019-12-30
            # What `fhctl tail --json --from-oldest` says of the same ticks, field by field.
            tail = [json.loads(line) for line in fhctl("tail", "--shm", "py", "--shm-dir", self.dir.name, "--json",
                                                      "--from-oldest", "--count", "50").splitlines()]
            self.assertEqual(len(tail), 50)
            for mine, theirs in zip(records, tail):
                for field in ("instrument_id", "ts_event", "ts_recv"):
                    self.assertEqual(getattr(mine, field), theirs[field])


class Counters(LiveFhd):
    replay = [PCAP, "--line-a", "233.54.12.111:26477"]
    trading_date = "2016-09-13"

    def test_counters_and_histograms_as_fhctl_stats(self):
        stats = json.loads(fhctl("stats", "--json", "--shm", "py", "--shm-dir", self.dir.name))
        with self.region() as r:
            self.assertEqual(r.counters(), stats["counters"])
            self.assertEqual(r.counters()["messages"], 2232)
            histograms = r.histograms()
            self.assertEqual(set(histograms), set(stats["histograms"]))
            for name, h in histograms.items():
                want = stats["histograms"][name]
                self.assertEqual((h.count, h.negative, h.min, h.max), (want["count"], want["negative"], want["min"],
                                                                        want["max"]))
                self.assertEqual(h.quantile(0.99), want["p99"])
                self.assertEqual([list(b) for b in h.nonzero()], want["buckets"])
            self.assertEqual(histograms["latency.feed_to_receive_ns"].count, 2232)


if __name__ == "__main__":
    unittest.main()
