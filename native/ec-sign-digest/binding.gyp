{
  "targets": [
    {
      "target_name": "ec_sign_digest",
      "include_dirs": ["../include"],
      "sources": ["ec_sign_digest.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
