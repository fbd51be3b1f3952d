{
  "targets": [
    {
      "target_name": "ec_verify",
      "include_dirs": ["../include"],
      "sources": ["ec_verify.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
