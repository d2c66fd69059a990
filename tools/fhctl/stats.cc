// fhctl stats: a region's header (writer, source, ring, books), its counters
// and its latency histograms, once or every few seconds with per-second rates.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "print.h"
#include "shm/consumer.h"

namespace fh::ctl {

namespace {

const char* writerStateName(const shm::Consumer& c) {
  if (c.header().writerState.load(std::memory_order_acquire) == static_cast<uint32_t>(shm::WriterState::Starting))
    return "starting";
  switch (c.writerStatus()) {
    case shm::WriterStatus::Running:
      return "running";
    case shm::WriterStatus::Stopped:
      return "stopped";
    case shm::WriterStatus::Stale:
      return "stale";
  }
  return "unknown";
}

const char* sourceStateName(shm::SourceState s) {
  switch (s) {
    case shm::SourceState::Idle:
      return "idle";
    case shm::SourceState::Running:
      return "running";
    case shm::SourceState::Done:
      return "done";
    case shm::SourceState::Failed:
      return "failed";
    case shm::SourceState::Stopped:
      return "stopped";
  }
  return "unknown";
}

// One reading of the region, taken at once so that rates compare like with like.
struct Sample {
  uint64_t monotonicNs = 0;
  uint64_t realtimeNs = 0;
  uint64_t heartbeatNs = 0;
  uint64_t ringTail = 0;
  std::optional<uint64_t> records;  // the ring.records counter
  std::vector<std::pair<std::string, uint64_t>> counters;
  struct Histogram {
    std::string name;
    bool whole = false;  // false: the writer held its seqlock all along
    std::shared_ptr<shm::HistogramSnapshot> data = std::make_shared<shm::HistogramSnapshot>();  // a copy shares it
  };
  std::vector<Histogram> histograms;
};

Sample take(const shm::Consumer& c) {
  Sample s;
  s.monotonicNs = shm::clockNs(CLOCK_MONOTONIC);
  s.realtimeNs = shm::realtimeNs();
  s.heartbeatNs = c.header().heartbeatNs.load(std::memory_order_relaxed);
  s.ringTail = c.header().ringTail.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < c.counterCount(); ++i) {
    s.counters.emplace_back(std::string(c.counterName(i)), c.counter(i));
    if (s.counters.back().first == "ring.records") s.records = s.counters.back().second;
  }
  for (uint32_t i = 0; i < c.histogramCount(); ++i) {
    Sample::Histogram& h = s.histograms.emplace_back();
    h.name = std::string(c.histogramName(i));
    h.whole = c.copyHistogram(i, *h.data) == shm::CopyStatus::Ok;
  }
  return s;
}

// Per-second change of each counter since `before` (same writer); gauges such
// as book.live_orders may go down.
std::vector<double> rates(const Sample& now, const Sample& before) {
  std::vector<double> out(now.counters.size(), 0.0);
  const double seconds = static_cast<double>(now.monotonicNs - before.monotonicNs) / 1e9;
  if (seconds <= 0) return out;
  for (size_t i = 0; i < now.counters.size() && i < before.counters.size(); ++i)
    out[i] = (static_cast<double>(now.counters[i].second) - static_cast<double>(before.counters[i].second)) / seconds;
  return out;
}

std::string instanceName(const shm::Consumer& c) {
  const char* p = c.header().instance;
  return std::string(p, strnlen(p, sizeof c.header().instance));
}

std::string rateText(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", r);
  return buf;
}

// A duration in ns for people: 850 ns, 2.13 us, 12.5 ms, 3.20 s.
std::string durationText(double ns) {
  char buf[32];
  const double a = ns < 0 ? -ns : ns;
  if (a < 1e3)
    std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  else if (a < 1e6)
    std::snprintf(buf, sizeof buf, "%.3g us", ns / 1e3);
  else if (a < 1e9)
    std::snprintf(buf, sizeof buf, "%.3g ms", ns / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.3g s", ns / 1e9);
  return buf;
}

constexpr double kQuantiles[] = {0.5, 0.99, 0.999};
constexpr const char* kQuantileNames[] = {"p50", "p99", "p99.9"};

void printHistogramJson(Output& out, const Sample::Histogram& h) {
  const shm::HistogramFields& f = h.data->fields;
  putJsonString(out, h.name);
  out.put(":{\"count\":");
  out.putUnsigned(f.count);
  out.put(",\"negative\":");
  out.putUnsigned(f.negative);
  out.put(",\"min\":");
  out.putUnsigned(f.min);
  out.put(",\"max\":");
  out.putUnsigned(f.max);
  char sum[40];
  std::snprintf(sum, sizeof sum, "%.17g", f.sum);
  out.put(",\"sum\":");
  out.put(sum);
  for (size_t q = 0; q < std::size(kQuantiles); ++q) {
    out.put(",\"");
    out.put(kQuantileNames[q]);
    out.put("\":");
    out.putUnsigned(h.data->quantile(kQuantiles[q]));
  }
  // Only the buckets that hold values: [lowest value, highest value, count].
  out.put(",\"buckets\":[");
  bool first = true;
  for (uint32_t i = 0; i < shm::kHistogramBuckets; ++i) {
    if (h.data->buckets[i] == 0) continue;
    if (!first) out.put(',');
    first = false;
    out.put('[');
    out.putUnsigned(shm::histogramBucketLow(i));
    out.put(',');
    out.putUnsigned(shm::histogramBucketHigh(i));
    out.put(',');
    out.putUnsigned(h.data->buckets[i]);
    out.put(']');
  }
  out.put("]}");
}

void printJson(Output& out, const shm::Consumer& c, const Sample& s, const std::vector<double>* perSecond) {
  const shm::RegionHeader& h = c.header();
  out.put("{\"region\":");
  putJsonString(out, c.path());
  out.put(",\"time_ns\":");
  out.putUnsigned(s.realtimeNs);
  out.put(",\"writer\":{\"pid\":");
  out.put(std::to_string(h.writerPid));
  out.put(",\"state\":\"");
  out.put(writerStateName(c));
  out.put("\",\"instance\":");
  putJsonString(out, instanceName(c));
  out.put(",\"generation\":");
  out.putUnsigned(c.generation());
  out.put(",\"start_ns\":");
  out.putUnsigned(h.startNs);
  out.put(",\"heartbeat_ns\":");
  out.putUnsigned(s.heartbeatNs);
  out.put(",\"heartbeat_age_ns\":");
  out.putUnsigned(s.realtimeNs > s.heartbeatNs ? s.realtimeNs - s.heartbeatNs : 0);
  out.put(",\"source\":\"");
  out.put(sourceStateName(c.sourceState()));
  out.put("\",\"ring_bytes\":");
  out.putUnsigned(h.ringBytes);
  out.put(",\"ring_tail\":");
  out.putUnsigned(s.ringTail);
  out.put(",\"records\":");
  s.records ? out.putUnsigned(*s.records) : out.put("null");
  out.put(",\"depth\":");
  out.putUnsigned(c.depth());
  out.put(",\"max_instruments\":");
  out.putUnsigned(c.maxInstruments());
  out.put("},\"counters\":{");
  for (size_t i = 0; i < s.counters.size(); ++i) {
    if (i > 0) out.put(',');
    putJsonString(out, s.counters[i].first);
    out.put(':');
    out.putUnsigned(s.counters[i].second);
  }
  out.put("},\"histograms\":{");
  bool firstHistogram = true;
  for (const Sample::Histogram& hist : s.histograms) {
    if (!hist.whole) continue;
    if (!firstHistogram) out.put(',');
    firstHistogram = false;
    printHistogramJson(out, hist);
  }
  out.put('}');
  if (perSecond) {
    out.put(",\"rates\":{");
    for (size_t i = 0; i < s.counters.size(); ++i) {
      if (i > 0) out.put(',');
      putJsonString(out, s.counters[i].first);
      out.put(':');
      out.put(rateText((*perSecond)[i]));
    }
    out.put('}');
  }
  out.put('}');
  out.endLine();
}

// A counter of the sample by name; nullopt when the region has none of that name.
std::optional<uint64_t> counterOf(const Sample& s, const std::string& name) {
  for (const auto& [n, v] : s.counters)
    if (n == name) return v;
  return std::nullopt;
}

// Where the book stores and the UMEM are, as fhd found at start (memory.*).
template <class Row>
void memoryRow(const Sample& s, const Row& row) {
  const auto get = [&](const std::string& name) { return counterOf(s, name); };
  const auto part = [&](const std::string& what, const std::string& prefix) -> std::string {
    const uint64_t bytes = get(prefix + "_bytes").value_or(0);
    if (bytes == 0) return "";
    const uint64_t huge = get(prefix + "_huge_page_bytes").value_or(0);
    const uint64_t off = get(prefix + "_off_node_bytes").value_or(0);
    std::string text = what + " " + std::to_string(bytes >> 20) + " MiB on node " +
                       std::to_string(get(prefix + "_node").value_or(0)) + ", " + std::to_string(huge * 100 / bytes) +
                       "% in 2 MiB pages";
    if (off != 0) text += ", " + std::to_string(off >> 20) + " MiB elsewhere";
    return text;
  };
  const std::string stores = part("stores", "memory.stores"), umem = part("UMEM", "memory.umem");
  if (stores.empty()) return;  // an older fhd
  row("memory", umem.empty() ? stores : stores + "; " + umem);
}

// The feed's state and its accounting, from the sequencer's counters, once a
// network feed has had a packet (a file replay has no lines).
template <class Row>
void feedRows(const Sample& s, const Row& row) {
  const auto get = [&](const std::string& name) { return counterOf(s, name); };
  const auto v = [&](const std::string& name) { return get(name).value_or(0); };
  if (!get("line_a.applied") || v("line_a.packets") + v("line_b.packets") == 0) return;  // no network feed yet
  const auto num = [](uint64_t x) { return std::to_string(x); };
  std::string state;
  const bool stale = get("feed.stale") ? v("feed.stale") != 0 : v("arbiter.gaps") != 0;  // older fhd: no feed.stale
  if (v("feed.joining") != 0)
    state = "joining at sequence " + num(v("feed.joined_at")) + ": no book is complete";
  else if (stale)
    state = "stale: " + num(v("arbiter.gaps")) + " holes lost, books marked";
  else if (v("retransmission.in_flight") != 0)
    state = "recovering: " + num(v("retransmission.in_flight")) + " requests in flight";
  else
    state = "live";
  if (v("snapshot.waiting") != 0) state += "; waiting for a snapshot";
  for (const char* l : {"line_a", "line_b"})
    if (v(std::string(l) + ".silent") != 0) state += std::string("; ") + l + " silent";
  row("feed", state);
  if (v("snapshot.requests") != 0) {
    std::string when;
    if (const uint64_t ns = v("snapshot.merged_ns"); ns != 0) {
      const time_t secs = time_t(ns / 1'000'000'000);
      tm utc{};
      gmtime_r(&secs, &utc);
      char text[40];
      std::strftime(text, sizeof text, "%H:%M:%S", &utc);
      when = std::string(" at ") + text + "." + std::to_string(ns / 1'000'000 % 1000 + 1000).substr(1) + " UTC";
    }
    row("snapshot", num(v("snapshot.loaded")) + " merged of " + num(v("snapshot.requests")) + " needed" + when +
                        "; the last to sequence " + num(v("snapshot.last_sequence")) + " with " +
                        num(v("snapshot.orders")) + " orders, " + num(v("snapshot.replayed")) +
                        " buffered messages applied, " + num(v("snapshot.covered")) + " already in it");
    row("fetches", num(v("snapshot.fetch_attempts")) + ": " + num(v("snapshot.fetched")) + " fetched (the last in " +
                       num(v("snapshot.fetch_ms")) + " ms), " + num(v("snapshot.login_rejected")) + " rejected, " +
                       num(v("snapshot.closed_early")) + " cut off, " + num(v("snapshot.server_silent")) + " silent, " +
                       num(v("snapshot.connect_failures")) + " without connection; " + num(v("snapshot.unusable")) +
                       " unusable, " + num(v("snapshot.overflowed")) +
                       " buffered messages dropped; off-by-one signs: " + num(v("snapshot.suspect_adds")) +
                       " adds of live orders, " + num(v("snapshot.suspect_unknown")) + " unknown orders");
  }
  uint64_t received = 0, applied = 0, duplicates = 0, late = 0, unparsed = 0, foreign = 0;
  for (const std::string l : {"line_a", "line_b", "retransmission"}) {
    received += v(l + ".messages");
    applied += v(l + ".applied");
    duplicates += v(l + ".duplicates");
    late += v(l + ".late");
    unparsed += v(l + ".unparsed");
    foreign += v(l + ".foreign");
  }
  row("received", num(received) + " messages: " + num(applied) + " applied + " + num(duplicates) + " duplicates + " +
                      num(late) + " late + " + num(unparsed) + " unparsed + " + num(foreign) + " foreign + " +
                      num(v("arbiter.held_messages")) + " held");
  const uint64_t recovered = v("retransmission.applied"), unrecovered = v("arbiter.gap_messages");
  row("lost", num(recovered + unrecovered) + " messages: " + num(recovered) + " recovered + " + num(unrecovered) +
                  " unrecovered");
}

// The quantiles, then one bar per power of two from the lowest value's to the highest's.
void printHistogramText(Output& out, const Sample::Histogram& h) {
  char line[200];
  const shm::HistogramFields& f = h.data->fields;
  if (!h.whole) {
    std::snprintf(line, sizeof line, "%s: unreadable (the writer held it locked)", h.name.c_str());
    out.put(line);
    out.endLine();
    return;
  }
  std::string head = h.name + ": " + std::to_string(f.count) + " values";
  if (f.count > f.negative) {
    for (size_t q = 0; q < std::size(kQuantiles); ++q)
      head += std::string(q == 0 ? "; " : ", ") + kQuantileNames[q] + " " +
              durationText(static_cast<double>(h.data->quantile(kQuantiles[q])));
    head += ", max " + durationText(static_cast<double>(f.max));
  }
  if (f.negative != 0) head += "; " + std::to_string(f.negative) + " below 0 (the feed's clock ahead of ours)";
  out.put(head);
  out.endLine();
  if (f.count == f.negative) return;
  // Rows of g consecutive buckets, g a power of two (aligned, so that for
  // g <= 16 a row never straddles a power of two), as fine as 24 rows allow.
  const uint32_t first = shm::histogramBucket(f.min), last = shm::histogramBucket(f.max);
  uint32_t g = 1;
  while ((last / g - first / g + 1) > 24) g *= 2;
  std::vector<uint64_t> rows(last / g - first / g + 1, 0);
  for (uint32_t i = first / g * g; i <= last && i < shm::kHistogramBuckets; ++i)
    rows[i / g - first / g] += h.data->buckets[i];
  const uint64_t counted = f.count - f.negative;
  const uint64_t most = *std::max_element(rows.begin(), rows.end());
  constexpr int kBar = 40;
  for (uint32_t r = 0; r < rows.size(); ++r) {
    const uint32_t from = (first / g + r) * g, to = std::min(from + g, shm::kHistogramBuckets) - 1;
    const uint64_t n = rows[r];
    const auto bar = static_cast<size_t>(most == 0 ? 0 : (n * kBar + most - 1) / most);
    std::snprintf(line, sizeof line, "  %9s .. %-9s %-*s %6.2f%%  %llu",
                  durationText(static_cast<double>(shm::histogramBucketLow(from))).c_str(),
                  durationText(static_cast<double>(shm::histogramBucketHigh(to))).c_str(), kBar,
                  std::string(bar, '#').c_str(), 100.0 * static_cast<double>(n) / static_cast<double>(counted),
                  static_cast<unsigned long long>(n));
    out.put(line);
    out.endLine();
  }
}

void printText(Output& out, const shm::Consumer& c, const Sample& s, const std::vector<double>* perSecond) {
  const shm::RegionHeader& h = c.header();
  char line[400];
  const auto row = [&](const char* name, const std::string& value) {
    std::snprintf(line, sizeof line, "%-10s %s", name, value.c_str());
    out.put(line);
    out.endLine();
  };
  row("region", c.path());
  row("time", utcTime(s.realtimeNs, true));
  std::snprintf(line, sizeof line, "pid %d, %s, generation %llu, instance %s", h.writerPid, writerStateName(c),
                static_cast<unsigned long long>(c.generation()), instanceName(c).c_str());
  row("writer", line);
  row("started", utcTime(h.startNs, true));
  if (s.heartbeatNs == 0) {
    row("heartbeat", "never");
  } else {
    const double age = s.realtimeNs > s.heartbeatNs ? static_cast<double>(s.realtimeNs - s.heartbeatNs) / 1e9 : 0.0;
    std::snprintf(line, sizeof line, "%s (%.3f s ago)", utcTime(s.heartbeatNs, true).c_str(), age);
    row("heartbeat", line);
  }
  row("source", sourceStateName(c.sourceState()));
  std::snprintf(line, sizeof line, "%llu bytes; %s records published; tail at byte %llu",
                static_cast<unsigned long long>(h.ringBytes),
                s.records ? std::to_string(*s.records).c_str() : "unknown",
                static_cast<unsigned long long>(s.ringTail));
  row("ring", line);
  std::snprintf(line, sizeof line, "depth %u; max instruments %u", c.depth(), c.maxInstruments());
  row("books", line);
  memoryRow(s, row);
  feedRows(s, row);
  out.endLine();

  size_t nameWidth = 0, valueWidth = 0;
  for (const auto& [name, value] : s.counters) {
    nameWidth = std::max(nameWidth, name.size());
    valueWidth = std::max(valueWidth, std::to_string(value).size());
  }
  for (size_t i = 0; i < s.counters.size(); ++i) {
    const auto& [name, value] = s.counters[i];
    if (perSecond)
      std::snprintf(line, sizeof line, "%-*s = %*llu  %12s/s", static_cast<int>(nameWidth), name.c_str(),
                    static_cast<int>(valueWidth), static_cast<unsigned long long>(value),
                    rateText((*perSecond)[i]).c_str());
    else
      std::snprintf(line, sizeof line, "%-*s = %*llu", static_cast<int>(nameWidth), name.c_str(),
                    static_cast<int>(valueWidth), static_cast<unsigned long long>(value));
    out.put(line);
    out.endLine();
  }
  for (const Sample::Histogram& hist : s.histograms) {
    out.endLine();
    printHistogramText(out, hist);
  }
}

}  // namespace

int runStats(const StatsOptions& options, const RegionOptions& region) {
  installStopHandlers();
  try {
    shm::Consumer::Options consumerOptions;
    consumerOptions.directory = region.directory;
    shm::Consumer consumer(region.name, consumerOptions);
    Output out(stdout);
    Sample before = take(consumer);
    bool first = true;  // no rates yet
    bool printed = false;
    for (;;) {
      const Sample now = first ? before : take(consumer);
      const std::vector<double> perSecond = rates(now, before);
      const std::vector<double>* shownRates = first ? nullptr : &perSecond;
      if (printed && !options.json) out.endLine();
      printed = true;
      options.json ? printJson(out, consumer, now, shownRates) : printText(out, consumer, now, shownRates);
      out.flush();
      if (out.failed()) {
        if (errno == EPIPE) return 0;
        std::fprintf(stderr, "fhctl stats: cannot write the output\n");
        return 1;
      }
      if (!options.watch || !sleepUnlessStopped(*options.watch)) return 0;
      before = now;
      first = false;
      if (consumer.refresh()) {
        // A new writer: its counters start again, so no rates for this frame.
        std::fprintf(stderr, "fhctl stats: %s: re-attached to a new writer (pid %d, generation %llu)\n",
                     consumer.path().c_str(), consumer.header().writerPid,
                     static_cast<unsigned long long>(consumer.generation()));
        before = take(consumer);
        first = true;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhctl stats: %s\n", e.what());
    return 1;
  }
}

}  // namespace fh::ctl
