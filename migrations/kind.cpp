#include "migrations/kind.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "migrations/kinds/builtin_kinds.hpp"

namespace backfilld::migrations {
namespace {

/// The rows: the built-in list first (built on first use, so no static initialisation order
/// matters), then kinds registered at run time.
class Registry {
 public:
  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  const Kind* find(std::string_view name) const {
    std::lock_guard lock(mutex_);
    const auto it = std::find_if(kinds_.begin(), kinds_.end(),
                                 [&](const Kind* kind) { return kind->name() == name; });
    return it == kinds_.end() ? nullptr : *it;
  }

  std::vector<const Kind*> all() const {
    std::lock_guard lock(mutex_);
    return kinds_;
  }

  common::Result<void> add(const Kind& kind) {
    std::lock_guard lock(mutex_);
    if (kind.name().empty()) return common::fail("kind_registry", "a kind needs a name");
    for (const Kind* known : kinds_) {
      if (known->name() == kind.name()) {
        return common::fail("kind_registry",
                            "kind \"" + std::string(kind.name()) + "\" is already registered");
      }
    }
    kinds_.push_back(&kind);
    return {};
  }

  void remove(const Kind& kind) {
    std::lock_guard lock(mutex_);
    const auto builtin = builtin_kinds();
    if (std::find(builtin.begin(), builtin.end(), &kind) != builtin.end()) return;
    std::erase(kinds_, &kind);
  }

 private:
  Registry() {
    for (const Kind* kind : builtin_kinds()) {
      if (!add(*kind)) {
        spdlog::critical("two built-in kinds are named \"{}\"", kind->name());
        std::abort();
      }
    }
  }

  mutable std::mutex mutex_;
  std::vector<const Kind*> kinds_;
};

}  // namespace

net::awaitable<CheckReport> Kind::before_scan(cosmos::DocumentStore&, const CheckTarget&) const {
  co_return CheckReport{};
}

net::awaitable<CheckReport> Kind::after_scan(cosmos::DocumentStore&,
                                             const CheckTarget&,
                                             const engine::Counts&) const {
  co_return CheckReport{};
}

const Kind* find_kind(std::string_view name) { return Registry::instance().find(name); }

const KindInfo* find_kind_info(std::string_view name) {
  const Kind* kind = find_kind(name);
  return kind == nullptr ? nullptr : &kind->info();
}

std::vector<const Kind*> known_kinds() { return Registry::instance().all(); }

std::string known_kind_names() {
  std::string out;
  for (const Kind* kind : known_kinds()) {
    if (!out.empty()) out += ", ";
    out += in_quotes(kind->name());
  }
  return out;
}

common::Result<void> register_kind(const Kind& kind) { return Registry::instance().add(kind); }

void unregister_kind(const Kind& kind) { Registry::instance().remove(kind); }

KindRegistration::KindRegistration(const Kind& kind) : kind_(kind) {
  if (auto added = register_kind(kind); !added) {
    spdlog::critical("{}", added.error().message);
    std::abort();
  }
}

KindRegistration::~KindRegistration() { unregister_kind(kind_); }

}  // namespace backfilld::migrations
