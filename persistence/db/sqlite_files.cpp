#include "persistence/db/sqlite_files.hpp"

#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.hpp"

namespace cxp::persistence {

namespace {

constexpr size_t max_rescued_page_bytes = 64 * 1024;

std::atomic<bool> rescued{false};
std::atomic<size_t> page_bytes{0};

/// The hex number at the start of `text` (strtoull is not async-signal-safe).
uintptr_t parse_hex(const char* text) {
  uintptr_t value = 0;
  for (;; ++text) {
    const char c = *text;
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) {
      return value;
    }
    value = value * 16 + static_cast<uintptr_t>(digit);
  }
}

/// Whether `address` lies in a mapping of a file whose name ends in `-shm`, read from
/// /proc/self/maps with async-signal-safe calls only (open, read, close; no allocation).
bool in_shm_mapping(uintptr_t address) {
  const int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  char buffer[4096];
  char line[1024];
  size_t length = 0;
  bool found = false;
  ssize_t got = 0;
  auto judge = [&] {
    // "start-end perms offset dev inode   path"
    line[length] = '\0';
    char* dash = std::strchr(line, '-');
    if (dash == nullptr) {
      return;
    }
    const auto start = parse_hex(line);
    const auto end = parse_hex(dash + 1);
    if (address < start || address >= end) {
      return;
    }
    found = length >= 4 && std::strcmp(line + length - 4, "-shm") == 0;
  };
  while (!found && (got = ::read(fd, buffer, sizeof buffer)) > 0) {
    for (ssize_t i = 0; i < got && !found; ++i) {
      if (buffer[i] == '\n') {
        judge();
        length = 0;
      } else if (length + 1 < sizeof line) {
        line[length++] = buffer[i];
      }
    }
  }
  ::close(fd);
  return found;
}

void on_bus_error(int, siginfo_t* info, void*) {
  const size_t page = page_bytes.load();
  const auto address = reinterpret_cast<uintptr_t>(info->si_addr);
  if (page == 0 || page > max_rescued_page_bytes || !in_shm_mapping(address)) {
    // Not ours: the default action, when the faulting access runs again.
    signal(SIGBUS, SIG_DFL);
    return;
  }
  auto* start = reinterpret_cast<void*>(address & ~(static_cast<uintptr_t>(page) - 1));
  // The page is still readable (only writing it faults): keep its content in the private copy.
  alignas(64) unsigned char copy[max_rescued_page_bytes];
  std::memcpy(copy, start, page);
  void* mapped =
    ::mmap(start, page, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    signal(SIGBUS, SIG_DFL);
    return;
  }
  std::memcpy(start, copy, page);
  rescued.store(true);
}

} // namespace

void install_shm_fault_rescue() {
  static std::once_flag once;
  std::call_once(once, [] {
    page_bytes.store(static_cast<size_t>(::sysconf(_SC_PAGESIZE)));
    struct sigaction action {};
    action.sa_sigaction = on_bus_error;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, nullptr);
  });
}

bool shm_fault_rescued() {
  return rescued.load();
}

std::optional<std::string> sqlite_files::fault() {
  std::string found;
  if (shm_fault_rescued()) {
    found = "the SQLite shared memory file failed under a write; restart the process";
  } else {
    for (const auto* suffix : {"", "-wal", "-shm"}) {
      const auto file = path_ + suffix;
      // A missing WAL or shared-memory file is created by SQLite when needed.
      if (::access(file.c_str(), F_OK) == 0 && ::access(file.c_str(), W_OK) != 0) {
        found = file + " is not writable";
        break;
      }
    }
  }
  std::lock_guard lock{mutex_};
  if (found != reported_) {
    if (found.empty()) {
      log::info("database", "the SQLite files are writable again", {{"path", path_}});
    } else {
      log::error("database", "storage fault: refusing database calls until it clears",
                 {{"path", path_}, {"fault", found}});
    }
    reported_ = found;
  }
  if (found.empty()) {
    return std::nullopt;
  }
  return found;
}

} // namespace cxp::persistence
