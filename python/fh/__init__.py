"""Read a running fhd's shared memory from Python: books, ticks, counters and
latency histograms, over libfh_consumer.so's C ABI (fh_consumer.h) with ctypes.

    import fh
    with fh.Region("fh") as region:
        book = region.book("AAPL")          # a Book: levels as (price, shares, orders) tuples
        bids, asks = region.book_arrays("AAPL")   # the same as NumPy structured arrays
        for tick in region.poll().records:  # MboMsg / Mbp1Msg / StatusMsg, DBN field names
            print(tick.instrument_id, tick.price, tick.size)

A Region is for one thread at a time, like the C handle it wraps. It never
writes to the region and never slows the writer. Prices are int64 in units of
1e-9 (PRICE_SCALE), times ns since the UNIX epoch, as in DBN. The library is
found as $FH_CONSUMER_LIB, else by the loader (libfh_consumer.so.0).
"""

import ctypes
import ctypes.util
import os
from collections import namedtuple

__all__ = ["Region", "Error", "Book", "Instrument", "Histogram", "Poll", "MboMsg", "Mbp1Msg", "StatusMsg",
           "PRICE_SCALE", "UNDEF_PRICE", "level_dtype"]

PRICE_SCALE = 1_000_000_000
UNDEF_PRICE = 2**63 - 1
_MAX_DEPTH = 64
_HISTOGRAM_BUCKETS = 976
BOOK_STATUS = {0: "normal", 1: "halted", 2: "stale", 3: "joining"}
WRITER_STATUS = {0: "running", 1: "stopped", 2: "stale"}


class _Options(ctypes.Structure):
    _fields_ = [("directory", ctypes.c_char_p), ("start", ctypes.c_uint32), ("reserved", ctypes.c_uint32),
                ("stale_after_ns", ctypes.c_uint64), ("refresh_every_ns", ctypes.c_uint64)]


class _Instrument(ctypes.Structure):
    _fields_ = [("locate", ctypes.c_uint16), ("symbol", ctypes.c_char * 9), ("trading_state", ctypes.c_char)]


class _Level(ctypes.Structure):
    _fields_ = [("price", ctypes.c_int64), ("shares", ctypes.c_uint64), ("orders", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32)]


class _Book(ctypes.Structure):
    _fields_ = [("locate", ctypes.c_uint16), ("bid_levels", ctypes.c_uint16), ("ask_levels", ctypes.c_uint16),
                ("status", ctypes.c_uint8), ("trading_state", ctypes.c_char), ("instrument_id", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32), ("last_sequence", ctypes.c_uint64), ("ts_event", ctypes.c_uint64),
                ("ts_recv", ctypes.c_uint64), ("updates", ctypes.c_uint64), ("bids", _Level * _MAX_DEPTH),
                ("asks", _Level * _MAX_DEPTH)]


class _Header(ctypes.Structure):
    _fields_ = [("length", ctypes.c_uint8), ("rtype", ctypes.c_uint8), ("publisher_id", ctypes.c_uint16),
                ("instrument_id", ctypes.c_uint32), ("ts_event", ctypes.c_uint64)]


class _Mbo(ctypes.Structure):
    _fields_ = [("hd", _Header), ("order_id", ctypes.c_uint64), ("price", ctypes.c_int64), ("size", ctypes.c_uint32),
                ("flags", ctypes.c_uint8), ("channel_id", ctypes.c_uint8), ("action", ctypes.c_char),
                ("side", ctypes.c_char), ("ts_recv", ctypes.c_uint64), ("ts_in_delta", ctypes.c_int32),
                ("sequence", ctypes.c_uint32)]


class _BidAsk(ctypes.Structure):
    _fields_ = [("bid_px", ctypes.c_int64), ("ask_px", ctypes.c_int64), ("bid_sz", ctypes.c_uint32),
                ("ask_sz", ctypes.c_uint32), ("bid_ct", ctypes.c_uint32), ("ask_ct", ctypes.c_uint32)]


class _Mbp1(ctypes.Structure):
    _fields_ = [("hd", _Header), ("price", ctypes.c_int64), ("size", ctypes.c_uint32), ("action", ctypes.c_char),
                ("side", ctypes.c_char), ("flags", ctypes.c_uint8), ("depth", ctypes.c_uint8),
                ("ts_recv", ctypes.c_uint64), ("ts_in_delta", ctypes.c_int32), ("sequence", ctypes.c_uint32),
                ("levels", _BidAsk * 1)]


class _Status(ctypes.Structure):
    _fields_ = [("hd", _Header), ("ts_recv", ctypes.c_uint64), ("action", ctypes.c_uint16),
                ("reason", ctypes.c_uint16), ("trading_event", ctypes.c_uint16), ("is_trading", ctypes.c_char),
                ("is_quoting", ctypes.c_char), ("is_short_sell_restricted", ctypes.c_char),
                ("reserved", ctypes.c_uint8 * 7)]


class _Tick(ctypes.Structure):
    _fields_ = [("index", ctypes.c_uint64), ("record", ctypes.c_void_p), ("length", ctypes.c_uint32),
                ("rtype", ctypes.c_uint8), ("mbo", ctypes.POINTER(_Mbo)), ("mbp1", ctypes.POINTER(_Mbp1)),
                ("status", ctypes.POINTER(_Status))]


class _PollResult(ctypes.Structure):
    _fields_ = [("records", ctypes.c_uint32), ("reattached", ctypes.c_uint32), ("lost", ctypes.c_uint64)]


class _Histogram(ctypes.Structure):
    _fields_ = [("count", ctypes.c_uint64), ("negative", ctypes.c_uint64), ("min", ctypes.c_uint64),
                ("max", ctypes.c_uint64), ("sum", ctypes.c_double), ("reserved", ctypes.c_uint64 * 3),
                ("buckets", ctypes.c_uint64 * _HISTOGRAM_BUCKETS)]


_TICK_FN = ctypes.CFUNCTYPE(None, ctypes.POINTER(_Tick), ctypes.c_void_p)

_HEADER_FIELDS = ("rtype", "publisher_id", "instrument_id", "ts_event")
MboMsg = namedtuple("MboMsg", ("index",) + _HEADER_FIELDS + (
    "order_id", "price", "size", "flags", "channel_id", "action", "side", "ts_recv", "ts_in_delta", "sequence"))
Mbp1Msg = namedtuple("Mbp1Msg", ("index",) + _HEADER_FIELDS + (
    "price", "size", "action", "side", "flags", "depth", "ts_recv", "ts_in_delta", "sequence",
    "bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00", "bid_ct_00", "ask_ct_00"))
StatusMsg = namedtuple("StatusMsg", ("index",) + _HEADER_FIELDS + (
    "ts_recv", "action", "reason", "trading_event", "is_trading", "is_quoting", "is_short_sell_restricted"))
Instrument = namedtuple("Instrument", "locate symbol trading_state")
Book = namedtuple("Book", "locate instrument_id status trading_state last_sequence ts_event ts_recv updates bids asks")
Poll = namedtuple("Poll", "records lost reattached")


def _load():
    path = os.environ.get("FH_CONSUMER_LIB") or ctypes.util.find_library("fh_consumer") or "libfh_consumer.so.0"
    lib = ctypes.CDLL(path)
    sigs = {
        "fh_last_error": (ctypes.c_char_p, []),
        "fh_status_name": (ctypes.c_char_p, [ctypes.c_int]),
        "fh_consumer_options_init": (None, [ctypes.POINTER(_Options)]),
        "fh_consumer_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_Options), ctypes.POINTER(ctypes.c_void_p)]),
        "fh_consumer_close": (None, [ctypes.c_void_p]),
        "fh_consumer_path": (ctypes.c_char_p, [ctypes.c_void_p]),
        "fh_consumer_generation": (ctypes.c_uint64, [ctypes.c_void_p]),
        "fh_consumer_depth": (ctypes.c_uint32, [ctypes.c_void_p]),
        "fh_consumer_max_instruments": (ctypes.c_uint32, [ctypes.c_void_p]),
        "fh_consumer_writer_status": (ctypes.c_int, [ctypes.c_void_p]),
        "fh_consumer_refresh": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]),
        "fh_consumer_find": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint16)]),
        "fh_consumer_instrument": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint16, ctypes.POINTER(_Instrument)]),
        "fh_consumer_copy_book": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint16, ctypes.POINTER(_Book)]),
        "fh_consumer_poll": (ctypes.c_int, [ctypes.c_void_p, _TICK_FN, ctypes.c_void_p, ctypes.c_uint32,
                                            ctypes.POINTER(_PollResult)]),
        "fh_consumer_counter_count": (ctypes.c_uint32, [ctypes.c_void_p]),
        "fh_consumer_counter_name": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]),
        "fh_consumer_counter_value": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint64)]),
        "fh_consumer_histogram_count": (ctypes.c_uint32, [ctypes.c_void_p]),
        "fh_consumer_histogram_name": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p,
                                                      ctypes.c_size_t]),
        "fh_consumer_copy_histogram": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(_Histogram)]),
        "fh_histogram_bucket_low": (ctypes.c_uint64, [ctypes.c_uint32]),
        "fh_histogram_bucket_high": (ctypes.c_uint64, [ctypes.c_uint32]),
        "fh_histogram_quantile": (ctypes.c_uint64, [ctypes.POINTER(_Histogram), ctypes.c_double]),
    }
    for name, (restype, argtypes) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = restype, argtypes
    return lib


_lib = _load()


class Error(Exception):
    """A call of the C ABI failed: `status` is its name (e.g. "FH_ERR_NOT_FOUND"), the message says why."""

    def __init__(self, status):
        self.status = _lib.fh_status_name(status).decode()
        super().__init__(f"{self.status}: {_lib.fh_last_error().decode(errors='replace')}")


def _check(status):
    if status != 0:
        raise Error(status)


def _text(raw):
    return raw.decode("ascii", errors="replace")


def level_dtype():
    """The NumPy dtype of book_arrays(): price (int64, 1e-9), shares (uint64), orders (uint32)."""
    import numpy
    return numpy.dtype([("price", "<i8"), ("shares", "<u8"), ("orders", "<u4")])


class Histogram:
    """A latency histogram as copied, whole: values in ns (see lib/shm/histogram.h)."""

    def __init__(self, name, raw):
        self.name = name
        self._raw = raw
        self.count, self.negative, self.min, self.max, self.sum = raw.count, raw.negative, raw.min, raw.max, raw.sum
        self.buckets = list(raw.buckets)

    def quantile(self, q):
        """The value at quantile q (0..1): its bucket's largest, never above max. 0 when empty."""
        return _lib.fh_histogram_quantile(ctypes.byref(self._raw), q)

    @staticmethod
    def bucket_bounds(i):
        """The smallest and largest value of bucket i."""
        return _lib.fh_histogram_bucket_low(i), _lib.fh_histogram_bucket_high(i)

    def nonzero(self):
        """[(low, high, count)] of the buckets that hold values."""
        return [(*self.bucket_bounds(i), n) for i, n in enumerate(self.buckets) if n]


class Region:
    """One daemon's region, /dev/shm/NAME (or DIRECTORY/NAME), attached read-only."""

    def __init__(self, name="fh", directory=None, start="live", stale_after_ns=None, refresh_every_ns=None):
        self._c = None
        if start not in ("live", "oldest"):
            raise ValueError(f"start: 'live' or 'oldest', not {start!r}")
        options = _Options()
        _lib.fh_consumer_options_init(ctypes.byref(options))
        self._directory = directory.encode() if directory is not None else None
        options.directory = self._directory
        options.start = 1 if start == "oldest" else 0
        if stale_after_ns is not None:
            options.stale_after_ns = stale_after_ns
        if refresh_every_ns is not None:
            options.refresh_every_ns = refresh_every_ns
        handle = ctypes.c_void_p()
        _check(_lib.fh_consumer_open(name.encode(), ctypes.byref(options), ctypes.byref(handle)))
        self._c = handle
        self._book = _Book()
        self._histogram = _Histogram()

    def close(self):
        if self._c:
            _lib.fh_consumer_close(self._c)
            self._c = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    # --- the region ---
    @property
    def path(self):
        return _lib.fh_consumer_path(self._c).decode()

    @property
    def generation(self):
        return _lib.fh_consumer_generation(self._c)

    @property
    def depth(self):
        return _lib.fh_consumer_depth(self._c)

    @property
    def max_instruments(self):
        return _lib.fh_consumer_max_instruments(self._c)

    @property
    def writer_status(self):
        """'running', 'stopped' or 'stale' (no heartbeat for stale_after_ns)."""
        return WRITER_STATUS[_lib.fh_consumer_writer_status(self._c)]

    def refresh(self):
        """Looks for a new writer now; True if the region was mapped again."""
        reattached = ctypes.c_int()
        _check(_lib.fh_consumer_refresh(self._c, ctypes.byref(reattached)))
        return bool(reattached.value)

    # --- instruments ---
    def find(self, symbol):
        """The locate of the first instrument with this symbol, or None."""
        locate = ctypes.c_uint16()
        status = _lib.fh_consumer_find(self._c, symbol.encode(), ctypes.byref(locate))
        if status == 8:  # FH_ERR_NO_INSTRUMENT
            return None
        _check(status)
        return locate.value

    def instrument(self, locate):
        out = _Instrument()
        _check(_lib.fh_consumer_instrument(self._c, locate, ctypes.byref(out)))
        return Instrument(out.locate, _text(out.symbol), _text(out.trading_state))

    def instruments(self):
        """Every instrument whose symbol is known."""
        found = (self.instrument(locate) for locate in range(1, self.max_instruments))
        return [i for i in found if i.symbol]

    def _locate(self, instrument):
        if isinstance(instrument, str):
            locate = self.find(instrument)
            if locate is None:
                raise KeyError(f"no instrument {instrument!r} in {self.path}")
            return locate
        return instrument

    def _copy_book(self, instrument):
        _check(_lib.fh_consumer_copy_book(self._c, self._locate(instrument), ctypes.byref(self._book)))
        return self._book

    # --- books ---
    def book(self, instrument):
        """A consistent copy of one book (by symbol or locate); levels as (price, shares, orders), best first."""
        b = self._copy_book(instrument)
        bids = [(l.price, l.shares, l.orders) for l in b.bids[:b.bid_levels]]
        asks = [(l.price, l.shares, l.orders) for l in b.asks[:b.ask_levels]]
        return Book(b.locate, b.instrument_id, BOOK_STATUS.get(b.status, str(b.status)), _text(b.trading_state),
                    b.last_sequence, b.ts_event, b.ts_recv, b.updates, bids, asks)

    def book_arrays(self, instrument):
        """The levels of one book as two NumPy structured arrays (level_dtype()), best first."""
        import numpy
        raw = numpy.dtype({"names": ["price", "shares", "orders"], "formats": ["<i8", "<u8", "<u4"],
                           "offsets": [0, 8, 16], "itemsize": ctypes.sizeof(_Level)})
        b = self._copy_book(instrument)
        bids = numpy.frombuffer(bytes(b.bids), dtype=raw, count=b.bid_levels).astype(level_dtype())
        asks = numpy.frombuffer(bytes(b.asks), dtype=raw, count=b.ask_levels).astype(level_dtype())
        return bids, asks

    # --- ticks ---
    def poll(self, max_records=1024):
        """The ticks published since the last poll (at most max_records), as MboMsg, Mbp1Msg and StatusMsg."""
        out = []

        def each(tick, _):
            t = tick.contents
            if t.mbo:
                m = t.mbo.contents
                h = m.hd
                out.append(MboMsg(t.index, h.rtype, h.publisher_id, h.instrument_id, h.ts_event, m.order_id,
                                  m.price, m.size, m.flags, m.channel_id, _text(m.action), _text(m.side), m.ts_recv,
                                  m.ts_in_delta, m.sequence))
            elif t.mbp1:
                m = t.mbp1.contents
                h, l = m.hd, m.levels[0]
                out.append(Mbp1Msg(t.index, h.rtype, h.publisher_id, h.instrument_id, h.ts_event, m.price, m.size,
                                   _text(m.action), _text(m.side), m.flags, m.depth, m.ts_recv, m.ts_in_delta,
                                   m.sequence, l.bid_px, l.ask_px, l.bid_sz, l.ask_sz, l.bid_ct, l.ask_ct))
            elif t.status:
                m = t.status.contents
                h = m.hd
                out.append(StatusMsg(t.index, h.rtype, h.publisher_id, h.instrument_id, h.ts_event, m.ts_recv,
                                     m.action, m.reason, m.trading_event, _text(m.is_trading), _text(m.is_quoting),
                                     _text(m.is_short_sell_restricted)))

        result = _PollResult()
        _check(_lib.fh_consumer_poll(self._c, _TICK_FN(each), None, max_records, ctypes.byref(result)))
        return Poll(out, result.lost, bool(result.reattached))

    # --- counters and histograms ---
    def counters(self):
        """{name: value} of every counter."""
        out = {}
        name = ctypes.create_string_buffer(56)
        value = ctypes.c_uint64()
        for i in range(_lib.fh_consumer_counter_count(self._c)):
            _check(_lib.fh_consumer_counter_name(self._c, i, name, len(name)))
            _check(_lib.fh_consumer_counter_value(self._c, i, ctypes.byref(value)))
            out[name.value.decode()] = value.value
        return out

    def histograms(self):
        """{name: Histogram} of every latency histogram (none in a region older than layout 1.3)."""
        out = {}
        name = ctypes.create_string_buffer(48)
        for i in range(_lib.fh_consumer_histogram_count(self._c)):
            _check(_lib.fh_consumer_histogram_name(self._c, i, name, len(name)))
            raw = _Histogram()
            _check(_lib.fh_consumer_copy_histogram(self._c, i, ctypes.byref(raw)))
            out[name.value.decode()] = Histogram(name.value.decode(), raw)
        return out
