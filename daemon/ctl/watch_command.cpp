// `backfilld ctl watch`: polls the daemon and draws watch_view's frames.
#include <sys/ioctl.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "daemon/common/json.hpp"
#include "daemon/ctl/session.hpp"
#include "daemon/ctl/watch_view.hpp"

namespace backfilld::ctl {
namespace {

/// The terminal's width in columns; 0 when unknown.
std::size_t terminal_columns() {
  winsize size{};
  return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 ? size.ws_col : 0;
}

/// `line` cut to `columns` visible characters (ANSI escapes kept whole and not counted), so a
/// long line does not wrap and push the frame off the screen.
std::string fit(const std::string& line, std::size_t columns) {
  if (columns == 0) return line;
  std::string out;
  std::size_t visible = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      const std::size_t end = line.find('m', i);
      if (end == std::string::npos) break;
      out.append(line, i, end - i + 1);
      i = end;
    } else if (visible < columns) {
      out += line[i];
      // A UTF-8 continuation byte is part of the character before it.
      if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) ++visible;
    }
  }
  return out;
}

bool ended(const rapidjson::Value& job) {
  const auto state = common::string_member(job, "state").value_or("");
  return state == "succeeded" || state == "failed" || state == "stopped";
}

}  // namespace

int watch(Session& session) {
  const bool one_job = !session.args.operands.empty();
  const bool terminal = !session.args.once && !session.args.json && &session.out == &std::cout &&
                        ::isatty(STDOUT_FILENO) == 1;
  const ViewStyle style{.color = terminal};
  std::vector<std::string> previous;
  for (;;) {
    auto answer = session.call("GET", one_job ? session.job_path() : "/v1/jobs");
    if (!answer) return answer.error();
    rapidjson::Document jobs(rapidjson::kArrayType);
    if (one_job) {
      jobs.PushBack(rapidjson::Value(*answer, jobs.GetAllocator()), jobs.GetAllocator());
    } else if (const rapidjson::Value* list = common::find_member(*answer, "jobs");
               list != nullptr && list->IsArray()) {
      jobs.CopyFrom(*list, jobs.GetAllocator());
    }
    std::vector<std::string> lines = session.args.json
                                         ? std::vector<std::string>{session.last_body}
                                         : render_frame(jobs, session.endpoint.url, style);
    if (terminal) {
      const std::size_t columns = terminal_columns();
      std::string frame = "\x1b[H";  // home, then each line over the last frame's
      for (const std::string& line : lines) frame += fit(line, columns) + "\x1b[K\n";
      frame += "\x1b[J";  // and clear what is left below
      session.out << frame << std::flush;
    } else if (lines != previous) {
      if (!previous.empty() && !session.args.json) session.out << "\n";
      for (const std::string& line : lines) session.out << line << "\n";
      session.out << std::flush;
    }
    previous = std::move(lines);
    if (session.args.once || (one_job && ended(*answer))) return kCtlOk;
    std::this_thread::sleep_for(session.args.interval);
  }
}

}  // namespace backfilld::ctl
