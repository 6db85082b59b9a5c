#pragma once
/// A container's kind-specific settings, type-erased: each kind owns its settings struct (e.g.
/// kinds/remap_enum.hpp's RemapEnumSettings), and the manifest holds it without knowing it.
#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace backfilld::migrations {

/// Holds one value of any copyable, equality-comparable settings type; empty by default.
class KindSettings {
 public:
  KindSettings() = default;
  template <class T>
  requires(!std::is_same_v<std::decay_t<T>, KindSettings>)
      KindSettings(T value)  // NOLINT(google-explicit-constructor): spec = RemapEnumSettings{...}
      : value_(std::make_unique<Model<T>>(std::move(value))) {}
  KindSettings(const KindSettings& other)
      : value_(other.value_ ? other.value_->clone() : nullptr) {}
  KindSettings(KindSettings&&) noexcept = default;
  KindSettings& operator=(const KindSettings& other) {
    if (this != &other) value_ = other.value_ ? other.value_->clone() : nullptr;
    return *this;
  }
  KindSettings& operator=(KindSettings&&) noexcept = default;

  /// The settings as a `T`, or nullptr when they are empty or of another type.
  template <class T>
  const T* get_if() const {
    if (!value_ || value_->type() != typeid(T)) return nullptr;
    return &static_cast<const Model<T>&>(*value_).value;
  }
  template <class T>
  T* get_if() {
    return const_cast<T*>(std::as_const(*this).get_if<T>());
  }
  bool empty() const { return !value_; }

  /// Same type and equal values (or both empty).
  bool operator==(const KindSettings& other) const {
    if (!value_ || !other.value_) return !value_ && !other.value_;
    return value_->type() == other.value_->type() && value_->equals(*other.value_);
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual std::unique_ptr<Concept> clone() const = 0;
    virtual const std::type_info& type() const = 0;
    /// `other` has the same type().
    virtual bool equals(const Concept& other) const = 0;
  };
  template <class T>
  struct Model final : Concept {
    explicit Model(T v) : value(std::move(v)) {}
    std::unique_ptr<Concept> clone() const override { return std::make_unique<Model>(value); }
    const std::type_info& type() const override { return typeid(T); }
    bool equals(const Concept& other) const override {
      return value == static_cast<const Model&>(other).value;
    }
    T value;
  };

  std::unique_ptr<Concept> value_;
};

}  // namespace backfilld::migrations
