#include "daemon/crypto/keyring.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "daemon/crypto/base64.hpp"

namespace backfilld::crypto {
namespace {

KeyBytes key_filled_with(unsigned char byte) {
  KeyBytes key;
  key.fill(byte);
  return key;
}

std::string base64_of(const KeyBytes& key) { return base64_encode(key); }

/// An environment made of `vars` only.
EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

/// A file with `text` under the temporary directory, removed at scope exit.
class TempFile {
 public:
  explicit TempFile(std::string_view text) {
    std::string pattern = (std::filesystem::temp_directory_path() / "backfilld-keyring-XXXXXX");
    const int fd = ::mkstemp(pattern.data());
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = pattern;
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string load_error(const EnvLookup& env) {
  auto keyring = load_keyring(env);
  REQUIRE_FALSE(keyring.ok());
  CHECK(keyring.error().code == "keyring");
  return keyring.error().message;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("StaticKeyring finds its keys by kid and names its primary and provider") {
  StaticKeyring keyring("file", "k2", {{"k1", key_filled_with(1)}, {"k2", key_filled_with(2)}});
  CHECK(keyring.primary_kid() == "k2");
  CHECK(keyring.provider() == "file");
  REQUIRE(keyring.find("k1") != nullptr);
  CHECK(*keyring.find("k1") == key_filled_with(1));
  CHECK(*keyring.find("k2") == key_filled_with(2));
  CHECK(keyring.find("k3") == nullptr);
}

TEST_CASE("provider env loads FIELD_ENCRYPT_KEY under FIELD_ENCRYPT_KEY_ID") {
  auto keyring = load_keyring(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "env"},
                                      {"FIELD_ENCRYPT_KEY", base64_of(key_filled_with(7))},
                                      {"FIELD_ENCRYPT_KEY_ID", "k7"}}));
  REQUIRE(keyring.ok());
  CHECK((*keyring)->provider() == "env");
  CHECK((*keyring)->primary_kid() == "k7");
  REQUIRE((*keyring)->find("k7") != nullptr);
  CHECK(*(*keyring)->find("k7") == key_filled_with(7));
}

TEST_CASE("provider env tolerates the trailing newline of a mounted secret") {
  auto keyring = load_keyring(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "env\n"},
                                      {"FIELD_ENCRYPT_KEY", base64_of(key_filled_with(7)) + "\n"},
                                      {"FIELD_ENCRYPT_KEY_ID", "k7\n"}}));
  REQUIRE(keyring.ok());
  CHECK((*keyring)->primary_kid() == "k7");
  CHECK(*(*keyring)->find("k7") == key_filled_with(7));
}

TEST_CASE("provider env names the missing variable") {
  const std::string key = base64_of(key_filled_with(7));
  CHECK(contains(
      load_error(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "env"}, {"FIELD_ENCRYPT_KEY_ID", "k7"}})),
      "FIELD_ENCRYPT_KEY is not set"));
  CHECK(contains(
      load_error(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "env"}, {"FIELD_ENCRYPT_KEY", key}})),
      "FIELD_ENCRYPT_KEY_ID is not set or empty"));
  CHECK(contains(load_error(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "env"},
                                    {"FIELD_ENCRYPT_KEY", key},
                                    {"FIELD_ENCRYPT_KEY_ID", ""}})),
                 "FIELD_ENCRYPT_KEY_ID is not set or empty"));
}

TEST_CASE("provider env refuses a key of the wrong size or bad base64 without printing it") {
  KeyBytes short_key = key_filled_with(9);
  const std::string short_text =
      base64_encode(std::span<const unsigned char>(short_key.data(), 31));
  std::string message = load_error(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "env"},
                                           {"FIELD_ENCRYPT_KEY", short_text},
                                           {"FIELD_ENCRYPT_KEY_ID", "k1"}}));
  CHECK(contains(message, "FIELD_ENCRYPT_KEY must be base64 of exactly 32 bytes, got 31 bytes"));
  CHECK_FALSE(contains(message, short_text));

  std::string bad_text = base64_of(key_filled_with(9));
  bad_text[10] = '!';
  message = load_error(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "env"},
                               {"FIELD_ENCRYPT_KEY", bad_text},
                               {"FIELD_ENCRYPT_KEY_ID", "k1"}}));
  CHECK(contains(message, "FIELD_ENCRYPT_KEY is not valid base64"));
  CHECK_FALSE(contains(message, bad_text));
  CHECK_FALSE(contains(message, bad_text.substr(0, 10)));
}

TEST_CASE("load_keyring names FIELD_ENCRYPT_KEY_PROVIDER when it is missing or unknown") {
  CHECK(contains(load_error(env_of({})), "FIELD_ENCRYPT_KEY_PROVIDER is not set"));
  CHECK(contains(load_error(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "vault"}})),
                 "FIELD_ENCRYPT_KEY_PROVIDER=\"vault\" is not a known key provider"));
  CHECK(load_error(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "akv"}})) ==
        "FIELD_ENCRYPT_KEY_PROVIDER=akv is not supported yet");
}

TEST_CASE("a key pasted into FIELD_ENCRYPT_KEY_PROVIDER is not echoed") {
  const std::string key = base64_of(key_filled_with(5));
  const std::string message = load_error(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", key}}));
  CHECK(contains(message, "FIELD_ENCRYPT_KEY_PROVIDER=a 44-character value"));
  CHECK_FALSE(contains(message, key));
}

TEST_CASE("provider file loads every key and the primary") {
  TempFile file(R"({"primary": "k2", "keys": {"k1": ")" + base64_of(key_filled_with(1)) +
                R"(", "k2": ")" + base64_of(key_filled_with(2)) + R"("}})");
  auto keyring = load_keyring(env_of(
      {{"FIELD_ENCRYPT_KEY_PROVIDER", "file"}, {"FIELD_ENCRYPT_KEYRING_FILE", file.path()}}));
  REQUIRE(keyring.ok());
  CHECK((*keyring)->provider() == "file");
  CHECK((*keyring)->primary_kid() == "k2");
  REQUIRE((*keyring)->find("k1") != nullptr);
  CHECK(*(*keyring)->find("k1") == key_filled_with(1));
  CHECK(*(*keyring)->find("k2") == key_filled_with(2));
}

TEST_CASE("provider file errors name the variable, the file and the kid, never the key") {
  const std::string key1 = base64_of(key_filled_with(1));
  const auto error_for = [](std::string_view text) {
    TempFile file(text);
    std::string message = load_error(env_of(
        {{"FIELD_ENCRYPT_KEY_PROVIDER", "file"}, {"FIELD_ENCRYPT_KEYRING_FILE", file.path()}}));
    CHECK(contains(message, "keyring file " + file.path()));
    return message;
  };

  CHECK(contains(load_error(env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "file"}})),
                 "FIELD_ENCRYPT_KEYRING_FILE is not set"));
  const std::string missing = "/nonexistent/backfilld/keyring.json";
  const std::string unreadable = load_error(
      env_of({{"FIELD_ENCRYPT_KEY_PROVIDER", "file"}, {"FIELD_ENCRYPT_KEYRING_FILE", missing}}));
  CHECK(contains(unreadable, "cannot read keyring file " + missing));
  CHECK(contains(unreadable, "No such file or directory"));

  CHECK(contains(error_for(R"({"primary": "k1", "keys": {"k1": ")" + key1 + "\"}"),
                 "is not valid JSON"));
  CHECK(contains(error_for("[]"), "must hold a JSON object"));
  CHECK(contains(error_for(R"({"keys": {"k1": ")" + key1 + "\"}}"),
                 "\"primary\" must be a non-empty string"));
  CHECK(contains(error_for(R"({"primary": "k1", "keys": {}})"), "\"keys\" must be a non-empty"));
  CHECK(contains(error_for(R"({"primary": "k3", "keys": {"k1": ")" + key1 + "\"}}"),
                 "primary key id \"k3\" is not in \"keys\""));
  CHECK(contains(error_for(R"({"primary": "k1", "keys": {"k1": 12}})"),
                 "keys[\"k1\"] must be a base64 string"));
  CHECK(contains(error_for(R"({"primary": "k1", "keys": {"": ")" + key1 + "\"}}"),
                 "a key id in \"keys\" is empty"));
  CHECK(contains(
      error_for(R"({"primary": "k1", "keys": {"k1": ")" + key1 + R"(", "k1": ")" + key1 + "\"}}"),
      "keys[\"k1\"] appears more than once"));

  std::array<unsigned char, 48> long_key;
  long_key.fill(3);
  const std::string long_text = base64_encode(long_key);
  std::string message = error_for(R"({"primary": "k1", "keys": {"k1": ")" + key1 + R"(", "k9": ")" +
                                  long_text + "\"}}");
  CHECK(contains(message, "keys[\"k9\"] must be base64 of exactly 32 bytes, got 48 bytes"));
  CHECK_FALSE(contains(message, long_text));
  CHECK_FALSE(contains(message, key1));

  std::string bad_text = key1;
  bad_text[3] = '*';
  message = error_for(R"({"primary": "k1", "keys": {"k1": ")" + bad_text + "\"}}");
  CHECK(contains(message, "keys[\"k1\"] is not valid base64"));
  CHECK_FALSE(contains(message, bad_text));
}

TEST_CASE("a keyring file nested 1,000,000 levels deep is refused with the depth, not a crash") {
  // In place and recursive, RapidJSON ran off the stack somewhere below a million levels.
  const std::string key1 = base64_of(key_filled_with(1));
  for (const std::string& text :
       {R"({"primary": "k1", "keys": {"k1": ")" + key1 + R"("}, "x": )" +
            std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}",
        [] {
          std::string objects;
          for (int i = 0; i < 100'000; ++i) objects += R"({"a":)";
          return objects;
        }()}) {
    TempFile file(text);
    const std::string message = load_error(env_of(
        {{"FIELD_ENCRYPT_KEY_PROVIDER", "file"}, {"FIELD_ENCRYPT_KEYRING_FILE", file.path()}}));
    CHECK(contains(message, "keyring file " + file.path() + " is not valid JSON: offset "));
    CHECK(contains(message, "nested deeper than 256 levels"));
    CHECK_FALSE(contains(message, key1));
  }
}

TEST_CASE("encryption_enabled is true only for FIELD_ENCRYPT_ENABLED=true") {
  CHECK(encryption_enabled(env_of({{"FIELD_ENCRYPT_ENABLED", "true"}})));
  CHECK_FALSE(encryption_enabled(env_of({{"FIELD_ENCRYPT_ENABLED", "TRUE"}})));
  CHECK_FALSE(encryption_enabled(env_of({{"FIELD_ENCRYPT_ENABLED", "1"}})));
  CHECK_FALSE(encryption_enabled(env_of({{"FIELD_ENCRYPT_ENABLED", "false"}})));
  CHECK_FALSE(encryption_enabled(env_of({})));
}

}  // namespace backfilld::crypto
