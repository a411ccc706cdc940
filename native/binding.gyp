# The native addon of threadkit: memfd segments as SharedArrayBuffers and shared futex waits
# (threadkit_shm.cc). Linux only; built at install by native/install.js, loaded through node-gyp-build.
{
  "targets": [
    {
      "target_name": "threadkit_shm",
      "sources": ["threadkit_shm.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-cast-function-type"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources": [] }]
      ]
    }
  ]
}
