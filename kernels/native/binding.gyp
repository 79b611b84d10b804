{
  "variables": {
    "deepline_cflags": [
      "-O3",
      "-std=c++17",
      "-fPIC",
      "-fno-math-errno"
    ]
  },
  "targets": [
    {
      "target_name": "deepline_native",
      "sources": [
        "native/addon.cc",
        "native/gemm.cc",
        "native/ops.cc",
        "native/text.cc",
        "native/fasttext.cc",
        "native/thread_pool.cc",
        "native/kernel_generic.cc",
        "native/elementwise_generic.cc"
      ],
      "cflags_cc": [
        "<@(deepline_cflags)"
      ],
      "cflags_cc!": [
        "-std=gnu++17"
      ],
      "libraries": [
        "-lpthread"
      ],
      "conditions": [
        [
          "target_arch=='x64'",
          {
            "defines": [
              "DEEPLINE_X64=1"
            ],
            "dependencies": [
              "deepline_avx2",
              "deepline_avx512"
            ]
          }
        ]
      ]
    }
  ],
  "conditions": [
    [
      "target_arch=='x64'",
      {
        "targets": [
          {
            "target_name": "deepline_avx2",
            "type": "static_library",
            "sources": [
              "native/kernel_avx2.cc",
              "native/elementwise_avx2.cc"
            ],
            "defines": [
              "DEEPLINE_X64=1"
            ],
            "cflags_cc": [
              "<@(deepline_cflags)",
              "-mavx2",
              "-mfma"
            ],
            "cflags_cc!": [
              "-std=gnu++17"
            ]
          },
          {
            "target_name": "deepline_avx512",
            "type": "static_library",
            "sources": [
              "native/kernel_avx512.cc"
            ],
            "defines": [
              "DEEPLINE_X64=1"
            ],
            "cflags_cc": [
              "<@(deepline_cflags)",
              "-mavx2",
              "-mfma",
              "-mavx512f"
            ],
            "cflags_cc!": [
              "-std=gnu++17"
            ]
          }
        ]
      }
    ]
  ]
}
