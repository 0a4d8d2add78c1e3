from setuptools import find_packages, setup

setup(
    name="paddle_lr",
    version="0.1.0",
    description="fluid's in-graph warmup + step-decay learning rate (exponential_with_warmup_decay) "
    "on paddlepaddle 2.6 (legacy IR) and 3.x (PIR), bit for bit",
    packages=find_packages(include=["paddle_lr", "paddle_lr.*"]),
    python_requires=">=3.9",
    # The library: the schedules, optimizers, checkpoints and the config. Paddle comes
    # with the cpu or gpu extra; the demo trainer and the tools' pictures with demo,
    # the porting tool with tools.
    install_requires=[
        "numpy",
        "pyyaml>=5.1",
    ],
    extras_require={
        # Exactly one of the two Paddle packages may be installed; a plain
        # install keeps whichever is already there.
        "cpu": ["paddlepaddle>=2.6,<4"],
        "gpu": ["paddlepaddle-gpu>=2.6,<4"],
        # the demo trainer (tools/train.py: pillow, pycocotools, tqdm) and the tools'
        # progress bars, pictures and tables (show_lr: tqdm, plot_lr: matplotlib and rich)
        "demo": ["tqdm", "matplotlib", "rich", "pycocotools", "pillow"],
        # paddle-lr-port (paddle_lr/tools/port.py) rewrites code with libcst
        "tools": ["libcst"],
        # the tests and the house checks .ci/run makes (import-linter: the import contracts; mypy: the types)
        "test": ["pytest", "hypothesis", "libcst", "import-linter", "mypy", "types-PyYAML"],
    },
    # One name per tool: paddle-lr-<module, "_" as "-">, also the tool's prog in usage and
    # error lines; ``python -m paddle_lr.tools.<module>`` and ``tools/<module>.py`` run the same
    # main(). paddle-lr-make-shapes, -plot and -show are the earlier names, kept as aliases.
    entry_points={
        "console_scripts": [
            "paddle-lr-train=paddle_lr.tools.train:main",
            "paddle-lr-make-shapes-dataset=paddle_lr.tools.make_shapes_dataset:main",
            "paddle-lr-warmup-calc=paddle_lr.tools.warmup_calc:main",
            "paddle-lr-plot-lr=paddle_lr.tools.plot_lr:main",
            "paddle-lr-show-lr=paddle_lr.tools.show_lr:main",
            "paddle-lr-bench=paddle_lr.tools.bench:main",
            "paddle-lr-fault-soak=paddle_lr.tools.fault_soak:main",
            "paddle-lr-port=paddle_lr.tools.port:main",
            # the earlier names
            "paddle-lr-make-shapes=paddle_lr.tools.make_shapes_dataset:main",
            "paddle-lr-plot=paddle_lr.tools.plot_lr:main",
            "paddle-lr-show=paddle_lr.tools.show_lr:main",
        ]
    },
)
