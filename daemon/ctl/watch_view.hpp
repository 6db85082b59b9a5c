#pragma once
/// What `backfilld ctl watch` and `show` draw: pure functions from the API's job status JSON to
/// lines of text, so the view is tested without a terminal.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <vector>

namespace backfilld::ctl {

/// How lines are drawn: ANSI colours only on a terminal.
struct ViewStyle {
  bool color = false;
  int bar_width = 30;        ///< cells of a job's progress bar
  int range_bar_width = 10;  ///< cells of a range's bar
};

/// "[#######-------]" with `width` cells between the brackets; an unknown ratio is all '?'.
std::string progress_bar(std::optional<double> ratio, int width);

/// Seconds as people read them: "45s", "3m 07s", "2h 05m", "3d 04h"; "-" when unknown.
std::string format_eta(std::optional<double> seconds);

/// A rate of documents per second: "0/s", "312/s", "12.5k/s", "1.3M/s".
std::string format_rate(double per_second);

/// The lines of one job's block: a title (id, container, kind, mode, state), the progress line
/// (bar, percent, scanned of estimated, documents/s, ETA), the waiting reason and the failure
/// reason when set, and a line per partition key range being scanned or scanned, with a bar
/// estimated from the range's share of the key space (ranges that split are left out; their
/// children carry on; a note says how many).
std::vector<std::string> render_job(const rapidjson::Value& job, const ViewStyle& style);

/// A whole frame: a heading naming `url` and the job count, then each job's block, blank line
/// between. `jobs` is the array of GET /v1/jobs's "jobs".
std::vector<std::string> render_frame(const rapidjson::Value& jobs,
                                      const std::string& url,
                                      const ViewStyle& style);

}  // namespace backfilld::ctl
