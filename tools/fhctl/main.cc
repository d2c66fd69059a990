// fhctl: the operator's and consumer's tool. Decodes captures and builds books
// from them, and reads a running daemon's shared memory: books, the tick
// stream, counters, a live view of the busiest books.
#include <CLI/CLI.hpp>
#include <exception>
#include <string>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"fhctl: decode ITCH 5.0 captures, show order books, watch a running fhd"};
  app.require_subcommand(1);

  fh::ctl::DecodeOptions decode;
  CLI::App* decodeCmd = app.add_subcommand("decode", "Decode a BinaryFILE or a pcap/pcapng of MoldUDP64");
  decodeCmd->add_option("--format", decode.format, "jsonl (the canonical form) or text")
      ->check(CLI::IsMember({"jsonl", "text"}));
  decodeCmd->add_option("--port", decode.port, "only UDP datagrams to this destination port");
  decodeCmd->add_option("FILE", decode.file, "capture to decode")->required();

  fh::ctl::BookOptions book;
  fh::ctl::RegionOptions region;
  CLI::App* bookCmd = app.add_subcommand(
      "book", "Print order books: of a running fhd's shared memory, or replayed from a capture (--from)");
  CLI::Option* fromOpt = bookCmd->add_option("--from", book.file, "capture to replay (BinaryFILE, pcap or pcapng)");
  bookCmd->add_option("SYMBOL", book.symbols, "only these symbols (as --symbol)");
  bookCmd->add_option("--port", book.port, "only UDP datagrams to this destination port");
  CLI::Option* lineAOpt =
      bookCmd
          ->add_option("--line-a", book.lineA,
                       "GROUP:PORT of line A in a capture: its packets are sequenced (A/B, holes) as fhd does")
          ->needs(fromOpt);
  bookCmd->add_option("--line-b", book.lineB, "GROUP:PORT of line B in the capture")->needs(lineAOpt);
  bookCmd
      ->add_option("--until", book.until,
                   "apply messages up to this sequence number only (in a BinaryFILE: its position from 1)")
      ->needs(fromOpt)
      ->excludes(lineAOpt);
  bookCmd
      ->add_flag("--timing", book.timing,
                 "print on stderr the messages applied, the time the replay took (the stores built before it) and "
                 "the rate")
      ->needs(fromOpt);
  CLI::Option* symbolOpt = bookCmd->add_option("--symbol", book.symbols, "only this symbol (repeatable)");
  bookCmd->add_option("--busiest", book.busiest, "only the N books with the most price levels, busiest first")
      ->check(CLI::Range(1u, 65536u))
      ->excludes(symbolOpt);
  bookCmd->add_option("--depth", book.depth, "levels per side, 0 for all")->capture_default_str();
  bookCmd->add_flag("--json", book.json, "one JSON line per book");
  bookCmd->add_option("--shm", region.name, "region of the running fhd: /dev/shm/NAME")
      ->capture_default_str()
      ->excludes(fromOpt);
  bookCmd->add_option("--shm-dir", region.directory, "directory of the region")
      ->capture_default_str()
      ->excludes(fromOpt);
  bookCmd->add_option("--max-orders", book.maxOrders, "size of the order store")
      ->check(CLI::Range(16u, 1u << 30))
      ->capture_default_str();
  bookCmd->add_option("--max-levels", book.maxLevels, "slots of the level arena")
      ->check(CLI::Range(64u, 1u << 30))
      ->capture_default_str();

  // The live views of a region.
  const CLI::Validator seconds(
      [](std::string& text) -> std::string {
        try {
          size_t used = 0;
          const double v = std::stod(text, &used);
          if (used == text.size() && v > 0 && v <= 1e9) return {};
        } catch (const std::exception&) {
        }
        return "expected seconds (more than 0, at most 1e9), not '" + text + "'";
      },
      "SECONDS");
  const CLI::Validator positive(
      [](std::string& text) -> std::string {
        if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
            text.find_first_not_of('0') != std::string::npos)
          return {};
        return "expected a whole number above 0, not '" + text + "'";
      },
      "N");
  const auto addRegion = [&](CLI::App* cmd) {
    cmd->add_option("--shm", region.name, "region of the running fhd: /dev/shm/NAME")->capture_default_str();
    cmd->add_option("--shm-dir", region.directory, "directory of the region")->capture_default_str();
  };

  fh::ctl::TailOptions tail;
  CLI::App* tailCmd = app.add_subcommand(
      "tail",
      "Print the tick stream as it happens, one line per record; notices (lapped, re-attached) go to "
      "stdout as '-- ' lines, or with --json to stderr");
  addRegion(tailCmd);
  tailCmd->add_option("--symbol", tail.symbols, "only this symbol (repeatable)");
  tailCmd->add_flag("--json", tail.json, "one JSON object per line, with DBN field names");
  tailCmd->add_flag("--from-oldest", tail.fromOldest, "start at the oldest record still in the ring");
  tailCmd->add_option("--count", tail.count, "stop after N records")->check(positive);
  tailCmd->add_option("--seconds", tail.seconds, "stop after T seconds")->check(seconds);

  fh::ctl::StatsOptions stats;
  CLI::App* statsCmd = app.add_subcommand("stats", "Print the region's writer state and counters");
  addRegion(statsCmd);
  statsCmd->add_flag("--json", stats.json, "one JSON object (a line per reading with --watch)");
  statsCmd->add_option("--watch", stats.watch, "print again every S seconds, with per-second rates")->check(seconds);

  fh::ctl::TopOptions top;
  CLI::App* topCmd = app.add_subcommand("top", "A live view of the busiest books, redrawn every interval");
  addRegion(topCmd);
  topCmd->add_option("--count", top.count, "books shown")->check(positive)->capture_default_str();
  topCmd->add_option("--interval", top.interval, "seconds between frames")->check(seconds)->capture_default_str();
  topCmd->add_option("--iterations", top.iterations, "stop after K frames")->check(positive);

  fh::ctl::CaptureOptions capture;
  CLI::App* captureCmd = app.add_subcommand(
      "capture",
      "Write the feed packets fhd's worker receives (its capture tap) to a pcapng file, one interface per "
      "line, with nanosecond receive times");
  addRegion(captureCmd);
  captureCmd->add_option("--out", capture.out, "FILE.pcapng to write; - for standard output")->required();
  captureCmd->add_option("--count", capture.count, "stop after N packets")->check(positive);
  captureCmd->add_option("--seconds", capture.seconds, "stop after T seconds")->check(seconds);
  captureCmd->add_option("--line", capture.lines, "only this line: a, b, retransmission or snapshot (repeatable)")
      ->check(CLI::IsMember({"a", "b", "retransmission", "snapshot"}));

  fh::ctl::ExporterOptions exporter;
  CLI::App* exporterCmd = app.add_subcommand(
      "exporter",
      "Serve the regions' counters, states and latency histograms to Prometheus at /metrics, or write "
      "them once to a file for node-exporter's textfile collector");
  exporterCmd->add_option("--shm", exporter.regions, "region of a running fhd: /dev/shm/NAME (repeatable; default fh)");
  exporterCmd->add_option("--shm-dir", region.directory, "directory of the regions")->capture_default_str();
  CLI::Option* listenOpt =
      exporterCmd->add_option("--listen", exporter.listen, "HOST:PORT to serve /metrics on")->capture_default_str();
  exporterCmd
      ->add_option("--textfile", exporter.textfile,
                   "write the metrics once to this file (a temporary name, then renamed) and exit")
      ->excludes(listenOpt);

  fh::ctl::GlimpseOptions glimpse;
  CLI::App* glimpseCmd =
      app.add_subcommand("glimpse", "fetch a GLIMPSE 5.0 snapshot (SoupBinTCP) and write its messages as a BinaryFILE");
  glimpseCmd->add_option("--server", glimpse.server, "ADDRESS:PORT of the GLIMPSE server")->required();
  glimpseCmd->add_option("--out", glimpse.out, "the BinaryFILE to write")->required();
  glimpseCmd->add_option("--user", glimpse.username, "SoupBinTCP username")->capture_default_str();
  glimpseCmd->add_option("--password", glimpse.password, "SoupBinTCP password")->capture_default_str();
  glimpseCmd->add_option("--session", glimpse.session, "session to log into (default: the current one)");
  glimpseCmd->add_option("--timeout-ms", glimpse.timeoutMs, "give up after the server is silent this long")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (decodeCmd->parsed()) return fh::ctl::runDecode(decode);
  if (tailCmd->parsed()) return fh::ctl::runTail(tail, region);
  if (statsCmd->parsed()) return fh::ctl::runStats(stats, region);
  if (topCmd->parsed()) return fh::ctl::runTop(top, region);
  if (glimpseCmd->parsed()) return fh::ctl::runGlimpse(glimpse);
  if (exporterCmd->parsed()) return fh::ctl::runExporter(exporter, region);
  if (captureCmd->parsed()) return fh::ctl::runCapture(capture, region);
  if (book.file.empty()) return fh::ctl::runBookFromRegion(book, region);
  return fh::ctl::runBookFromFile(book);
}
