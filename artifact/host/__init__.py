"""The host side: what reads the files a run wrote (Python >= 3.10, no TensorFlow).

    judge       claims x records -> verdicts (and agreement with a frozen reference run)
    report      tables, figures, HTML/Markdown/JSON, the headless-browser check
    containers  the docker SDK: engines per role, image builds, container runs

It imports `artifact.core` and itself, never `artifact.device`, and never TensorFlow: a report
renders on any machine (tests/behaviour/test_architecture.py checks it).
"""
