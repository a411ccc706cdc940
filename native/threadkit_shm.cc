// threadkit's native side: memory that several processes share, and futex waits that cross them.
//
// Node has no SharedArrayBuffer that another process can see, and V8's Atomics.wait/notify are an
// in-process emulation that never wakes another process (nor a native futex waiter). This addon
// gives JavaScript what is missing, and nothing else:
//
//   create(size)                      memfd_create + ftruncate + mmap(MAP_SHARED) → { fd, sab }
//   open(path)                        open("/proc/<pid>/fd/<n>") of a process that holds a segment → { fd, sab }
//   map(fd)                           an fd this process already holds (inherited through stdio) → sab
//   close(fd)                         closes an fd of create/open
//   wait(i32, index, expected, ms)    futex wait, shared, one slice at most → 'ok' | 'not-equal' | 'timed-out'
//   waitAsync(i32, index, expected, ms)  the same without blocking the JS thread → a string at once
//                                     ('not-equal') or a Promise of one
//   wake(i32, index, count)           futex wake, shared → how many were woken
//   claimArena(fd)                    makes `fd` (segment 0 of an arena) this process's arena unless
//                                     one is already set → the fd that is set (-1 to only read it)
//   watchParent(fd, parentPid, graceMs[, via])  the death watch of a child process: kills this
//                                     process graceMs after its parent ends (see "Death watch" below)
//   createGroup(size)                 a zeroed SharedArrayBuffer that owns shelf entries (see the shelf)
//   shelve(group, sab)                puts a SharedArrayBuffer of this process on the shelf → an id
//   borrow(id) / take(id)             that buffer, in the calling thread (take also removes it) → sab | undefined
//   discard(id)                       removes it → whether it was there
//
// Lifetime rules.
// - Mappings: the SharedArrayBuffer's backing store owns its mapping; V8 calls our deleter (munmap)
//   when the last reference (JS object or a pending async wait, see below) goes away. Nothing else
//   ever unmaps: an explicit unmap would let JavaScript touch freed memory (a segfault).
// - File descriptors: create/open return the fd and the caller owns it (close it with close(); the
//   arena keeps its fds open so that other processes can reach the segment through /proc). The
//   mapping does not need the fd: it keeps the memfd alive by itself.
// - Async waits hold a std::shared_ptr to the backing store, so the mapping outlives the wait even
//   if JavaScript dropped every reference meanwhile.
//
// Waits. Every wait uses shared futexes (no FUTEX_PRIVATE_FLAG), so it wakes across processes, and
// every sleeper and waker of a word must use this addon (V8's Atomics.notify never wakes a futex
// waiter). A sync wait sleeps until an absolute CLOCK_MONOTONIC deadline, but never longer than one
// slice (SLICE_NS): then it returns 'ok' although nobody woke it. V8 acts on worker.terminate()
// only when JavaScript runs again, so the caller's loop (which re-checks its word and re-parks with
// the time left) is what lets a terminated worker stop within a slice. Any wait may return 'ok'
// without a wake meant for it (a slice's end, a signal, a teardown): callers re-check in a loop.
//
// Async waits never use the libuv threadpool (a pending wait there starves fs/dns/crypto, and can
// deadlock when the waker needs the threadpool). They are served by waiter threads of this process:
// each sleeps in FUTEX_WAITV (Linux ≥ 5.16) on up to MAX_WORDS words plus a private control word
// that is bumped whenever its list changes. One thread serves the first MAX_WORDS pending waits of
// the whole process (all its worker threads); a second is started only when more are pending at
// once. Waiter threads are detached and never joined: they sleep in the kernel while idle and end
// with the process. Their shared state is a leaked heap object, so that no static destructor runs
// under them at exit.
//
// A finished async wait is handed to the JS thread that started it through that environment's
// uv_async_t and settled there inside a node::CallbackScope (so microtasks run). An environment that
// is torn down (worker.terminate(), process exit) runs our async cleanup hook: it withdraws its
// pending waits from the waiter threads (under their mutex, so no waiter thread touches it after),
// drops their promises, closes the uv_async_t, and tells Node it is done once the handle is closed.
// Without that hook, terminating a worker with a pending wait aborts the process ("uv_loop_close()
// while having open handles").
//
// The shelf: SharedArrayBuffers handed between the threads of this process without a message. A
// SharedArrayBuffer reaches another thread only inside a postMessage, which the receiving thread
// reads on its event loop; a queue shared by threads must hand over memory (a new chunk of its
// ring, a Lock inside an item) to whichever thread takes the item, maybe one blocked in a
// synchronous get. So a thread puts the buffer's backing store on the shelf under a number, and any
// thread makes its own SharedArrayBuffer over the same store from that number (V8 shares backing
// stores between isolates: that is how postMessage shares one). Every entry belongs to a group, a
// SharedArrayBuffer made by createGroup (a queue's own memory): when the last thread drops the
// group, V8 frees its memory through our deleter, which also removes the group's entries, so a
// queue dropped with items in it leaves nothing on the shelf. Entries are released outside the
// shelf's mutex, since one may be a group itself (a queue inside another queue's item).
#include <node.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using v8::ArrayBufferView;
using v8::BackingStore;
using v8::Context;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::FunctionTemplate;
using v8::Global;
using v8::HandleScope;
using v8::Int32Array;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::Object;
using v8::Promise;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

constexpr int64_t NS_PER_MS = 1000000;
constexpr int64_t NS_PER_S = 1000000000;
/** Longest single sleep of a sync wait: termination is noticed within it. */
constexpr int64_t SLICE_NS = 100 * NS_PER_MS;
/** Words one waiter thread serves (FUTEX_WAITV_MAX less its control word). */
constexpr size_t MAX_WORDS = FUTEX_WAITV_MAX - 1;
constexpr int64_t NO_DEADLINE = -1;

enum WaitResult { OK = 0, NOT_EQUAL = 1, TIMED_OUT = 2 };
const char* const RESULT_NAMES[] = {"ok", "not-equal", "timed-out"};

// ---------------------------------------------------------------------------------------------
// Errors and argument checks

void ThrowErrno(Isolate* isolate, const char* call, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s failed: %s (%s)", call, strerror(err), strerrorname_np(err) ? strerrorname_np(err) : "?");
  Local<Value> error = v8::Exception::Error(String::NewFromUtf8(isolate, message).ToLocalChecked());
  Local<Context> context = isolate->GetCurrentContext();
  const char* code = strerrorname_np(err);
  if (code != nullptr) {
    error.As<Object>()->Set(context, String::NewFromUtf8Literal(isolate, "code"), String::NewFromUtf8(isolate, code).ToLocalChecked()).Check();
  }
  error.As<Object>()->Set(context, String::NewFromUtf8Literal(isolate, "syscall"), String::NewFromUtf8(isolate, call).ToLocalChecked()).Check();
  isolate->ThrowException(error);
}

void ThrowType(Isolate* isolate, const char* message) {
  isolate->ThrowException(v8::Exception::TypeError(String::NewFromUtf8(isolate, message).ToLocalChecked()));
}

/** The address of i32[index], checked: a shared Int32Array and an index inside it; nullptr after throwing. */
int32_t* WordAddress(const FunctionCallbackInfo<Value>& args, std::shared_ptr<BackingStore>* keep = nullptr) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsInt32Array() || !args[1]->IsUint32()) {
    ThrowType(isolate, "expected (Int32Array, index)");
    return nullptr;
  }
  Local<Int32Array> view = args[0].As<Int32Array>();
  uint32_t index = args[1].As<v8::Uint32>()->Value();
  if (index >= view->Length()) {
    ThrowType(isolate, "index out of range");
    return nullptr;
  }
  Local<v8::ArrayBuffer> buffer = view.As<ArrayBufferView>()->Buffer();
  if (!buffer->IsSharedArrayBuffer()) {
    ThrowType(isolate, "expected an Int32Array over a SharedArrayBuffer");
    return nullptr;
  }
  if (keep != nullptr) *keep = buffer->GetBackingStore();
  return reinterpret_cast<int32_t*>(static_cast<char*>(buffer->Data()) + view->ByteOffset()) + index;
}

// ---------------------------------------------------------------------------------------------
// Segments

void Unmap(void* data, size_t length, void* /*deleter_data*/) {
  munmap(data, length);
}

/** Maps `fd` (its whole size) as a SharedArrayBuffer; an empty handle after throwing. */
Local<SharedArrayBuffer> MapFd(Isolate* isolate, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ThrowErrno(isolate, "fstat", errno);
    return {};
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ThrowType(isolate, "segment is empty");
    return {};
  }
  void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    ThrowErrno(isolate, "mmap", errno);
    return {};
  }
  std::unique_ptr<BackingStore> store = SharedArrayBuffer::NewBackingStore(data, size, Unmap, nullptr);
  return SharedArrayBuffer::New(isolate, std::move(store));
}

Local<Object> FdAndBuffer(Isolate* isolate, int fd, Local<SharedArrayBuffer> sab) {
  Local<Context> context = isolate->GetCurrentContext();
  Local<Object> out = Object::New(isolate);
  out->Set(context, String::NewFromUtf8Literal(isolate, "fd"), v8::Integer::New(isolate, fd)).Check();
  out->Set(context, String::NewFromUtf8Literal(isolate, "sab"), sab).Check();
  return out;
}

void Create(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsNumber() || args[0].As<Number>()->Value() < 1 || args[0].As<Number>()->Value() > 1e12) {
    return ThrowType(isolate, "expected a size in bytes");
  }
  off_t size = static_cast<off_t>(args[0].As<Number>()->Value());
  int fd = memfd_create("threadkit-arena", MFD_CLOEXEC);
  if (fd < 0) return ThrowErrno(isolate, "memfd_create", errno);
  if (ftruncate(fd, size) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(isolate, "ftruncate", err);
  }
  Local<SharedArrayBuffer> sab = MapFd(isolate, fd);
  if (sab.IsEmpty()) {
    close(fd);
    return;
  }
  args.GetReturnValue().Set(FdAndBuffer(isolate, fd, sab));
}

void Open(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsString()) return ThrowType(isolate, "expected a path");
  String::Utf8Value path(isolate, args[0]);
  int fd = open(*path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(isolate, "open", errno);
  Local<SharedArrayBuffer> sab = MapFd(isolate, fd);
  if (sab.IsEmpty()) {
    close(fd);
    return;
  }
  args.GetReturnValue().Set(FdAndBuffer(isolate, fd, sab));
}

void Map(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsInt32()) return ThrowType(isolate, "expected a file descriptor");
  Local<SharedArrayBuffer> sab = MapFd(isolate, args[0].As<v8::Int32>()->Value());
  if (!sab.IsEmpty()) args.GetReturnValue().Set(sab);
}

void Close(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsInt32()) return ThrowType(isolate, "expected a file descriptor");
  if (close(args[0].As<v8::Int32>()->Value()) != 0) ThrowErrno(isolate, "close", errno);
}

/**
 * The fd of this process's arena (its segment 0), shared by every JS environment of the process:
 * the threads of a process use one arena, whichever of them made or adopted it first. Never closed.
 */
std::atomic<int> g_arena_fd{-1};

void ClaimArena(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsInt32()) return ThrowType(isolate, "expected a file descriptor or -1");
  int fd = args[0].As<v8::Int32>()->Value();
  int expected = -1;
  if (fd >= 0 && g_arena_fd.compare_exchange_strong(expected, fd)) return args.GetReturnValue().Set(fd);
  args.GetReturnValue().Set(g_arena_fd.load());
}

// ---------------------------------------------------------------------------------------------
// Futex

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * NS_PER_S + ts.tv_nsec;
}

struct timespec ToTimespec(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / NS_PER_S);
  ts.tv_nsec = static_cast<long>(ns % NS_PER_S);
  return ts;
}

/** An absolute CLOCK_MONOTONIC deadline for a timeout in ms (Infinity or negative: none). */
int64_t DeadlineFor(double ms) {
  if (!(ms >= 0) || ms > 1e12) return NO_DEADLINE;
  return MonotonicNs() + static_cast<int64_t>(ms * NS_PER_MS);
}

/** Sleeps while *addr == expected, until the absolute deadline `until` (CLOCK_MONOTONIC). */
long FutexWaitUntil(int32_t* addr, int32_t expected, int64_t until) {
  struct timespec ts = ToTimespec(until);
  return syscall(SYS_futex, addr, FUTEX_WAIT_BITSET, expected, &ts, nullptr, FUTEX_BITSET_MATCH_ANY);
}

void Wait(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  int32_t* addr = WordAddress(args);
  if (addr == nullptr) return;
  if (!args[2]->IsInt32() || !args[3]->IsNumber()) return ThrowType(isolate, "expected (Int32Array, index, expected, ms)");
  int32_t expected = args[2].As<v8::Int32>()->Value();
  int64_t deadline = DeadlineFor(args[3].As<Number>()->Value());
  // One slice at most: V8 acts on worker.terminate() only when JavaScript runs again, so a long
  // wait returns 'ok' (a spurious wake-up) at the end of each slice and the caller's loop re-parks.
  int64_t slice = MonotonicNs() + SLICE_NS;
  int64_t until = deadline != NO_DEADLINE && deadline < slice ? deadline : slice;
  WaitResult result = OK;
  if (FutexWaitUntil(addr, expected, until) != 0) {
    int err = errno;
    if (err == EAGAIN) result = NOT_EQUAL;
    else if (err == ETIMEDOUT) result = until == deadline ? TIMED_OUT : OK;
    else if (err != EINTR) return ThrowErrno(isolate, "futex(FUTEX_WAIT_BITSET)", err);
  }
  args.GetReturnValue().Set(String::NewFromUtf8(isolate, RESULT_NAMES[result]).ToLocalChecked());
}

void Wake(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  int32_t* addr = WordAddress(args);
  if (addr == nullptr) return;
  if (!args[2]->IsNumber()) return ThrowType(isolate, "expected (Int32Array, index, count)");
  double count = args[2].As<Number>()->Value();
  int n = count >= INT32_MAX ? INT32_MAX : count < 0 ? 0 : static_cast<int>(count);
  long woken = syscall(SYS_futex, addr, FUTEX_WAKE, n, nullptr, nullptr, 0);
  if (woken < 0) return ThrowErrno(isolate, "futex(FUTEX_WAKE)", errno);
  args.GetReturnValue().Set(static_cast<double>(woken));
}

// ---------------------------------------------------------------------------------------------
// Async waits: per-environment records and the waiter threads

struct Env;

/** One pending async wait, owned by the waiter thread's list (under g_state->mutex). */
struct PendingWait {
  uint64_t key;
  int32_t* addr;
  int32_t expected;
  int64_t deadline;
  Env* env;
  /** Keeps the mapping alive for as long as the wait is pending. */
  std::shared_ptr<BackingStore> store;
};

/** A waiter thread: its words and its control word. */
struct Shard {
  std::vector<PendingWait> waits;
  /** Bumped (under the mutex) and woken whenever `waits` changes. Private to this process. */
  uint32_t control = 0;
};

/** What the waiter threads share with the JS threads. Leaked on purpose (see the top comment). */
struct State {
  std::mutex mutex;
  std::vector<Shard*> shards;
  uint64_t next_key = 1;
};
State* const g_state = new State();

/** A JS environment (main thread or a worker) of this process, while it uses this addon. */
struct Env {
  Isolate* isolate;
  Global<Context> context;
  /** The resource of the CallbackScope that settles waits. */
  Global<Object> resource;
  uv_async_t async;
  /** Finished waits not yet settled: key and result. Guarded by g_state->mutex. */
  std::vector<std::pair<uint64_t, WaitResult>> done;
  /** True once teardown began: waiter threads must not touch `async` any more. Under the mutex. */
  bool closing = false;
  /** The promises of pending waits. Loop thread only. */
  std::unordered_map<uint64_t, Global<Promise::Resolver>> resolvers;
  node::AsyncCleanupHookHandle hook;
  void (*cleanup_done)(void*) = nullptr;
  void* cleanup_arg = nullptr;
};

long FutexWaitv(struct futex_waitv* waiters, unsigned count, const struct timespec* timeout) {
  return syscall(SYS_futex_waitv, waiters, count, 0, timeout, CLOCK_MONOTONIC);
}

void WakeControl(Shard* shard) {
  shard->control++;
  syscall(SYS_futex, &shard->control, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

/** Hands a finished wait to its environment (under the mutex). */
void Finish(const PendingWait& wait, WaitResult result) {
  Env* env = wait.env;
  if (env->closing) return;
  env->done.emplace_back(wait.key, result);
  uv_async_send(&env->async);
}

/**
 * A waiter thread's loop. Under the mutex: settle the waits whose word changed or whose deadline
 * passed, then snapshot the list; outside it: sleep in FUTEX_WAITV on the control word and the
 * snapshot. A wake of word i settles the wait that was at i in the snapshot (if it is still pending).
 */
void ServeShard(Shard* shard) {
  std::vector<struct futex_waitv> vec;
  std::vector<uint64_t> keys;
  std::unique_lock<std::mutex> lock(g_state->mutex);
  for (;;) {
    int64_t now = MonotonicNs();
    int64_t nearest = NO_DEADLINE;
    auto& waits = shard->waits;
    for (size_t i = 0; i < waits.size();) {
      PendingWait& w = waits[i];
      bool changed = __atomic_load_n(w.addr, __ATOMIC_SEQ_CST) != w.expected;
      bool expired = w.deadline != NO_DEADLINE && now >= w.deadline;
      if (changed || expired) {
        Finish(w, changed ? OK : TIMED_OUT);
        waits[i] = std::move(waits.back());
        waits.pop_back();
        continue;
      }
      if (w.deadline != NO_DEADLINE && (nearest == NO_DEADLINE || w.deadline < nearest)) nearest = w.deadline;
      i++;
    }
    vec.clear();
    keys.clear();
    vec.push_back({shard->control, reinterpret_cast<uint64_t>(&shard->control), FUTEX_32 | FUTEX_PRIVATE_FLAG, 0});
    keys.push_back(0);
    for (const PendingWait& w : waits) {
      vec.push_back({static_cast<uint32_t>(w.expected), reinterpret_cast<uint64_t>(w.addr), FUTEX_32, 0});
      keys.push_back(w.key);
    }
    lock.unlock();
    struct timespec ts = ToTimespec(nearest);
    long r = FutexWaitv(vec.data(), static_cast<unsigned>(vec.size()), nearest == NO_DEADLINE ? nullptr : &ts);
    int err = r < 0 ? errno : 0;
    lock.lock();
    if (r > 0) {
      // Word r was woken: settle that wait as 'ok' even if its word went back to the same value.
      for (size_t i = 0; i < waits.size(); i++) {
        if (waits[i].key == keys[r]) {
          Finish(waits[i], OK);
          waits[i] = std::move(waits.back());
          waits.pop_back();
          break;
        }
      }
    } else if (r < 0 && err != EAGAIN && err != ETIMEDOUT && err != EINTR) {
      // Nothing sensible is left to do on this thread (ENOSYS is refused before a wait is queued).
      for (const PendingWait& w : waits) Finish(w, OK);
      waits.clear();
    }
  }
}

/** Queues a wait on a waiter thread with room, starting one if none has (under the mutex). */
void Enqueue(PendingWait wait) {
  for (Shard* shard : g_state->shards) {
    if (shard->waits.size() < MAX_WORDS) {
      shard->waits.push_back(std::move(wait));
      WakeControl(shard);
      return;
    }
  }
  Shard* shard = new Shard();
  shard->waits.push_back(std::move(wait));
  g_state->shards.push_back(shard);
  std::thread(ServeShard, shard).detach();
}

void UpdateRef(Env* env) {
  uv_handle_t* handle = reinterpret_cast<uv_handle_t*>(&env->async);
  if (env->resolvers.empty()) uv_unref(handle);
  else uv_ref(handle);
}

/** On the loop thread: settles the finished waits of this environment. */
void OnAsync(uv_async_t* handle) {
  Env* env = static_cast<Env*>(handle->data);
  std::vector<std::pair<uint64_t, WaitResult>> done;
  {
    std::lock_guard<std::mutex> lock(g_state->mutex);
    done.swap(env->done);
  }
  if (done.empty()) return;
  Isolate* isolate = env->isolate;
  HandleScope scope(isolate);
  Local<Context> context = env->context.Get(isolate);
  Context::Scope context_scope(context);
  node::CallbackScope callback_scope(isolate, env->resource.Get(isolate), {0, 0});
  for (auto& [key, result] : done) {
    auto it = env->resolvers.find(key);
    if (it == env->resolvers.end()) continue;
    Local<Promise::Resolver> resolver = it->second.Get(isolate);
    env->resolvers.erase(it);
    resolver->Resolve(context, String::NewFromUtf8(isolate, RESULT_NAMES[result]).ToLocalChecked()).Check();
  }
  UpdateRef(env);
}

bool WaitvSupported() {
  static int supported = -1;  // guarded by g_state->mutex
  if (supported < 0) {
    // A zero-length vector is EINVAL where the call exists, ENOSYS where it does not.
    long r = syscall(SYS_futex_waitv, nullptr, 0, 0, nullptr, CLOCK_MONOTONIC);
    supported = !(r < 0 && errno == ENOSYS);
  }
  return supported == 1;
}

void WaitAsync(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  Env* env = static_cast<Env*>(args.Data().As<v8::External>()->Value());
  std::shared_ptr<BackingStore> store;
  int32_t* addr = WordAddress(args, &store);
  if (addr == nullptr) return;
  if (!args[2]->IsInt32() || !args[3]->IsNumber()) return ThrowType(isolate, "expected (Int32Array, index, expected, ms)");
  int32_t expected = args[2].As<v8::Int32>()->Value();
  if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != expected) {
    return args.GetReturnValue().Set(String::NewFromUtf8Literal(isolate, "not-equal"));
  }
  double ms = args[3].As<Number>()->Value();
  if (ms == 0) return args.GetReturnValue().Set(String::NewFromUtf8Literal(isolate, "timed-out"));
  Local<Context> context = isolate->GetCurrentContext();
  Local<Promise::Resolver> resolver;
  if (!Promise::Resolver::New(context).ToLocal(&resolver)) return;
  uint64_t key;
  {
    std::lock_guard<std::mutex> lock(g_state->mutex);
    if (!WaitvSupported()) return ThrowErrno(isolate, "futex_waitv", ENOSYS);
    key = g_state->next_key++;
    Enqueue(PendingWait{key, addr, expected, DeadlineFor(ms), env, std::move(store)});
  }
  env->resolvers.emplace(key, Global<Promise::Resolver>(isolate, resolver));
  UpdateRef(env);
  args.GetReturnValue().Set(resolver->GetPromise());
}

/** Teardown, step 2: the uv_async_t is closed; nothing refers to `env` any more. */
void OnClosed(uv_handle_t* handle) {
  Env* env = static_cast<Env*>(handle->data);
  void (*done)(void*) = env->cleanup_done;
  void* arg = env->cleanup_arg;
  delete env;
  done(arg);
}

/** Teardown, step 1 (Node's async environment cleanup hook). */
void Cleanup(void* data, void (*done)(void*), void* done_arg) {
  Env* env = static_cast<Env*>(data);
  {
    std::lock_guard<std::mutex> lock(g_state->mutex);
    env->closing = true;
    env->done.clear();
    for (Shard* shard : g_state->shards) {
      auto& waits = shard->waits;
      size_t before = waits.size();
      for (size_t i = 0; i < waits.size();) {
        if (waits[i].env == env) {
          waits[i] = std::move(waits.back());
          waits.pop_back();
        } else {
          i++;
        }
      }
      if (waits.size() != before) WakeControl(shard);
    }
  }
  // The promises are never settled: their isolate is going away.
  env->resolvers.clear();
  env->context.Reset();
  env->resource.Reset();
  env->cleanup_done = done;
  env->cleanup_arg = done_arg;
  uv_close(reinterpret_cast<uv_handle_t*>(&env->async), OnClosed);
}

// ---------------------------------------------------------------------------------------------
// Death watch
//
// A child process that must end with its parent (a daemon Process, a pool's worker, and their own
// children) is also watched by a thread of this addon, because the event loop's watch (the IPC
// channel's 'disconnect') is blind while JavaScript runs a long synchronous stretch.
//
//   arm (JS thread, once per process):
//     fd ← pidfd_open(parent)                  names the parent *process*, whichever of its
//                                              threads forked us (PR_SET_PDEATHSIG follows the
//                                              forking thread: a worker thread's end would kill us)
//     or, where pidfd_open does not exist (ENOSYS; EPERM from a seccomp profile older than it):
//     fd ← F_DUPFD_CLOEXEC of the IPC socket   our own reference: Node closing or reusing fd 3
//                                              never changes what is watched
//     getppid() != parent → SIGKILL now        it died before we looked; while getppid() still
//                                              names it, it is alive and the pidfd is its own
//                                              (its pid cannot have been reused)
//     start the watcher thread
//   watcher thread:
//     poll(fd) until it wakes: a pidfd is readable once the parent has exited; the socket reports
//     POLLRDHUP (asked for alone, so IPC messages never wake it) once the parent's end is closed
//     confirm: getppid() != parent, looking every 1 ms for up to HANGUP_CONFIRM_MS — the kernel
//     closes a dying process's files before it re-parents its children, and a hangup alone may be
//     the parent closing the channel on purpose (a pool retiring its worker). A pidfd's wake is
//     confirmed at once (the children are re-parented before the pidfd is notified).
//     not confirmed: the parent lives on → close our fd and return (the event loop ends the child
//     on 'disconnect', as it ends an idle one)
//     confirmed: sleep graceMs (the event loop may still end the process gracefully: a SIGTERM
//     handler, its 'disconnect' path), then SIGKILL this process — SIGKILL, not exit(): exit()
//     from a second thread runs atexit handlers and static destructors under V8's feet
//
// Lifetime: the watcher thread is detached and nobody joins it. It ends with the process (killed
// by us, or the process ended first), or returns when a hangup was not the parent's end. Its
// ParentWatch record and the fd in it belong to the thread: freed and closed when it returns,
// left to the process's end otherwise. Every signal is blocked in it (masked around
// pthread_create), so signals keep going to Node's threads. Once armed, a process stays watched:
// a later call does nothing and returns false.

/** How long a hangup of the socket may wait for getppid() to confirm the parent's end. */
constexpr int HANGUP_CONFIRM_MS = 1000;
/** The watcher thread's stack: it calls poll, nanosleep, getppid, kill and nothing else. */
constexpr size_t WATCHER_STACK_BYTES = 64 * 1024;

/** What the watcher thread watches; owned by the thread. */
struct ParentWatch {
  /** A pidfd of the parent, or this process's own dup of the IPC socket. */
  int fd;
  bool is_pidfd;
  pid_t parent;
  int64_t grace_ns;
};

/** Set once this process's parent is watched. */
std::atomic<bool> g_parent_watched{false};

bool ParentGone(pid_t parent) {
  return getppid() != parent;
}

/** Sleeps `ns`, resuming with the time left after a signal. */
void SleepNs(int64_t ns) {
  struct timespec left = ToTimespec(ns);
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

[[noreturn]] void KillSelf() {
  // A signal sent to oneself is delivered before kill() returns; the loop only makes that explicit.
  kill(getpid(), SIGKILL);
  for (;;) pause();
}

/** Blocks until `fd` reports `events` (or a hangup, an error, a closed fd); returns what it reported. */
short PollUntil(int fd, short events) {
  struct pollfd entry = {fd, events, 0};
  for (;;) {
    if (poll(&entry, 1, -1) > 0) return entry.revents;
    // EINTR: poll again. ENOMEM (the only other failure with one valid entry): the kernel is short
    // of memory for a moment; nobody can be told from this thread, so try again shortly.
    if (errno != EINTR) SleepNs(10 * NS_PER_MS);
  }
}

/** Whether the parent has ended, looking again every 1 ms for up to HANGUP_CONFIRM_MS. */
bool ConfirmParentGone(pid_t parent) {
  for (int ms = 0; ms < HANGUP_CONFIRM_MS; ms++) {
    if (ParentGone(parent)) return true;
    SleepNs(NS_PER_MS);
  }
  return ParentGone(parent);
}

void* WatchParentThread(void* arg) {
  std::unique_ptr<ParentWatch> watch(static_cast<ParentWatch*>(arg));
  short revents = PollUntil(watch->fd, watch->is_pidfd ? POLLIN : POLLRDHUP);
  if (ConfirmParentGone(watch->parent)) {
    SleepNs(watch->grace_ns);
    KillSelf();
  }
  // The parent lives on: it closed the channel on purpose. (POLLNVAL: someone closed our fd by
  // number; it is not ours to close any more.)
  if (!(revents & POLLNVAL)) close(watch->fd);
  return nullptr;
}

/** Starts the detached watcher thread, every signal blocked in it; 0 or an error number, `*call` naming the failed call. */
int StartWatcher(ParentWatch* watch, const char** call) {
  pthread_attr_t attr;
  int err = pthread_attr_init(&attr);
  if (err != 0) {
    *call = "pthread_attr_init";
    return err;
  }
  if ((err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED)) != 0) *call = "pthread_attr_setdetachstate";
  else if ((err = pthread_attr_setstacksize(&attr, WATCHER_STACK_BYTES)) != 0) *call = "pthread_attr_setstacksize";
  if (err == 0) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t thread;
    if ((err = pthread_create(&thread, &attr, WatchParentThread, watch)) != 0) *call = "pthread_create";
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  pthread_attr_destroy(&attr);
  return err;
}

/** The fd to watch: a pidfd of `parent`, else a dup of `ipc_fd`; -1 with errno and `*call` on failure. */
int OpenWatchFd(int ipc_fd, pid_t parent, bool socket_only, bool* is_pidfd, const char** call) {
  *is_pidfd = false;
  if (!socket_only) {
    int fd = static_cast<int>(syscall(SYS_pidfd_open, parent, 0));
    if (fd >= 0) {
      *is_pidfd = true;
      return fd;
    }
    // ESRCH: no such process any more; the parent is gone if getppid() agrees.
    if (errno == ESRCH && ParentGone(parent)) KillSelf();
    if (errno != ENOSYS && errno != EPERM) {
      *call = "pidfd_open";
      return -1;
    }
  }
  int fd = fcntl(ipc_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) *call = "fcntl(F_DUPFD_CLOEXEC)";
  return fd;
}

bool IsIntAtLeast(Local<Value> value, double min) {
  if (!value->IsNumber()) return false;
  double n = value.As<Number>()->Value();
  return n >= min && n <= INT32_MAX && n == static_cast<double>(static_cast<int64_t>(n));
}

void WatchParent(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  bool via_ok = args[3]->IsUndefined() || args[3]->IsString();
  if (!IsIntAtLeast(args[0], 0) || !IsIntAtLeast(args[1], 1) || !IsIntAtLeast(args[2], 0) || !via_ok) {
    return ThrowType(isolate, "expected (fd: integer >= 0, parentPid: integer > 0, graceMs: integer >= 0[, via: 'pidfd' | 'socket'])");
  }
  bool socket_only = false;
  if (args[3]->IsString()) {
    String::Utf8Value via(isolate, args[3]);
    socket_only = strcmp(*via, "socket") == 0;
    if (!socket_only && strcmp(*via, "pidfd") != 0) return ThrowType(isolate, "via must be 'pidfd' or 'socket'");
  }
  int ipc_fd = static_cast<int>(args[0].As<Number>()->Value());
  pid_t parent = static_cast<pid_t>(args[1].As<Number>()->Value());
  int64_t grace_ns = static_cast<int64_t>(args[2].As<Number>()->Value()) * NS_PER_MS;
  bool unwatched = false;
  if (!g_parent_watched.compare_exchange_strong(unwatched, true)) return args.GetReturnValue().Set(false);
  const char* call = nullptr;
  bool is_pidfd;
  int fd = OpenWatchFd(ipc_fd, parent, socket_only, &is_pidfd, &call);
  if (fd < 0) {
    int err = errno;
    g_parent_watched = false;
    return ThrowErrno(isolate, call, err);
  }
  // The parent died before we looked (see above).
  if (ParentGone(parent)) KillSelf();
  ParentWatch* watch = new ParentWatch{fd, is_pidfd, parent, grace_ns};
  int err = StartWatcher(watch, &call);
  if (err != 0) {
    delete watch;
    close(fd);
    g_parent_watched = false;
    return ThrowErrno(isolate, call, err);
  }
  args.GetReturnValue().Set(true);
}

// ---------------------------------------------------------------------------------------------
// The shelf (see the top comment)

struct ShelfEntry {
  std::shared_ptr<BackingStore> store;
  /** The data of the group the entry belongs to (a key only: never dereferenced). */
  const void* group;
};

struct Shelf {
  std::mutex mutex;
  std::unordered_map<uint64_t, ShelfEntry> entries;
  uint64_t next_id = 1;
};
/** Leaked on purpose, as g_state: a group may be freed by a GC that runs at exit. */
Shelf* const g_shelf = new Shelf();
/** Ids stay exact in a JavaScript number. */
constexpr uint64_t MAX_SHELF_ID = (uint64_t{1} << 53) - 1;

/** The deleter of a group's memory: drops the group's entries, then frees it. */
void FreeGroup(void* data, size_t /*length*/, void* /*deleter_data*/) {
  std::vector<std::shared_ptr<BackingStore>> dropped;
  {
    std::lock_guard<std::mutex> lock(g_shelf->mutex);
    for (auto it = g_shelf->entries.begin(); it != g_shelf->entries.end();) {
      if (it->second.group == data) {
        dropped.push_back(std::move(it->second.store));
        it = g_shelf->entries.erase(it);
      } else {
        ++it;
      }
    }
  }
  dropped.clear();  // outside the mutex: a dropped store may be a group, whose deleter takes it
  free(data);
}

void CreateGroup(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsNumber() || args[0].As<Number>()->Value() < 1 || args[0].As<Number>()->Value() > 1e12) {
    return ThrowType(isolate, "expected a size in bytes");
  }
  size_t size = static_cast<size_t>(args[0].As<Number>()->Value());
  void* data = calloc(size, 1);
  if (data == nullptr) return ThrowErrno(isolate, "calloc", ENOMEM);
  std::unique_ptr<BackingStore> store = SharedArrayBuffer::NewBackingStore(data, size, FreeGroup, nullptr);
  args.GetReturnValue().Set(SharedArrayBuffer::New(isolate, std::move(store)));
}

/** The id argument of borrow/take/discard; 0 after throwing. */
uint64_t ShelfId(const FunctionCallbackInfo<Value>& args) {
  double id = args[0]->IsNumber() ? args[0].As<Number>()->Value() : 0;
  if (!(id >= 1 && id <= static_cast<double>(MAX_SHELF_ID)) || id != static_cast<double>(static_cast<uint64_t>(id))) {
    ThrowType(args.GetIsolate(), "expected a shelf id");
    return 0;
  }
  return static_cast<uint64_t>(id);
}

void Shelve(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsSharedArrayBuffer() || !args[1]->IsSharedArrayBuffer()) return ThrowType(isolate, "expected (group, SharedArrayBuffer)");
  const void* group = args[0].As<SharedArrayBuffer>()->Data();
  std::shared_ptr<BackingStore> store = args[1].As<SharedArrayBuffer>()->GetBackingStore();
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(g_shelf->mutex);
    if (g_shelf->next_id > MAX_SHELF_ID) return ThrowType(isolate, "the shelf ran out of ids");
    id = g_shelf->next_id++;
    g_shelf->entries.emplace(id, ShelfEntry{std::move(store), group});
  }
  args.GetReturnValue().Set(static_cast<double>(id));
}

/** borrow(id) and take(id): a new SharedArrayBuffer of this thread over the entry's store. */
void Fetch(const FunctionCallbackInfo<Value>& args, bool remove) {
  uint64_t id = ShelfId(args);
  if (id == 0) return;
  std::shared_ptr<BackingStore> store;
  {
    std::lock_guard<std::mutex> lock(g_shelf->mutex);
    auto it = g_shelf->entries.find(id);
    if (it == g_shelf->entries.end()) return;  // undefined
    store = remove ? std::move(it->second.store) : it->second.store;
    if (remove) g_shelf->entries.erase(it);
  }
  args.GetReturnValue().Set(SharedArrayBuffer::New(args.GetIsolate(), std::move(store)));
}

void Borrow(const FunctionCallbackInfo<Value>& args) {
  Fetch(args, false);
}

void Take(const FunctionCallbackInfo<Value>& args) {
  Fetch(args, true);
}

void Discard(const FunctionCallbackInfo<Value>& args) {
  uint64_t id = ShelfId(args);
  if (id == 0) return;
  std::shared_ptr<BackingStore> store;
  {
    std::lock_guard<std::mutex> lock(g_shelf->mutex);
    auto it = g_shelf->entries.find(id);
    if (it == g_shelf->entries.end()) return args.GetReturnValue().Set(false);
    store = std::move(it->second.store);
    g_shelf->entries.erase(it);
  }
  store.reset();  // outside the mutex (see FreeGroup)
  args.GetReturnValue().Set(true);
}

void SetMethod(Local<Context> context, Local<Object> exports, const char* name, v8::FunctionCallback fn, Local<Value> data = {}) {
  Isolate* isolate = context->GetIsolate();
  Local<Function> f = FunctionTemplate::New(isolate, fn, data)->GetFunction(context).ToLocalChecked();
  exports->Set(context, String::NewFromUtf8(isolate, name).ToLocalChecked(), f).Check();
}

}  // namespace

// Context-aware: loads in worker threads too, once per environment.
NODE_MODULE_INIT(/* exports, module, context */) {
  Isolate* isolate = context->GetIsolate();
  Env* env = new Env();
  env->isolate = isolate;
  env->context.Reset(isolate, context);
  env->resource.Reset(isolate, Object::New(isolate));
  int err = uv_async_init(node::GetCurrentEventLoop(isolate), &env->async, OnAsync);
  if (err != 0) {
    delete env;
    isolate->ThrowException(v8::Exception::Error(String::NewFromUtf8(isolate, uv_strerror(err)).ToLocalChecked()));
    return;
  }
  env->async.data = env;
  uv_unref(reinterpret_cast<uv_handle_t*>(&env->async));
  env->hook = node::AddEnvironmentCleanupHook(isolate, Cleanup, env);
  SetMethod(context, exports, "create", Create);
  SetMethod(context, exports, "open", Open);
  SetMethod(context, exports, "map", Map);
  SetMethod(context, exports, "close", Close);
  SetMethod(context, exports, "wait", Wait);
  SetMethod(context, exports, "wake", Wake);
  SetMethod(context, exports, "claimArena", ClaimArena);
  SetMethod(context, exports, "watchParent", WatchParent);
  SetMethod(context, exports, "waitAsync", WaitAsync, v8::External::New(isolate, env));
  SetMethod(context, exports, "createGroup", CreateGroup);
  SetMethod(context, exports, "shelve", Shelve);
  SetMethod(context, exports, "borrow", Borrow);
  SetMethod(context, exports, "take", Take);
  SetMethod(context, exports, "discard", Discard);
}
