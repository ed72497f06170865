"""A STAND-IN for `python -m artifact retrain|run --cells KEY` in the fleet's engine tests: no TensorFlow.

`run` copies the reference smoke record of the cell into RESULTS/records/ after FAKE_SLEEP_S seconds (it is
a plumbing check: every record it writes is the frozen reference's, marked `fake_cell`); `retrain` with a
baseline key writes a placeholder baseline file, with a pruned cell's key a placeholder package. Each start
and end is appended to FAKE_LOG: "<start|end> <time> <machine> <command> <key> <pid> <package seen>".
FAKE_HANG=<machine>: that machine's cells never end (an engine that stops answering).
FAKE_FAIL=<machine>:<key>: that machine's first run of that cell exits 3 (later runs succeed).
"""
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE = os.path.join(ROOT, "expected_results", "reference", "smoke", "records")


def main(argv):
    command = argv[0]
    options = dict(zip(argv[1::2], argv[2::2]))
    results, key = options["--results"], options["--cells"]
    machine = os.environ.get("ARTIFACT_FLEET_BOARD", "?")
    seen = os.path.isdir(os.path.join(results, "retrained", key))

    def log(what):
        with open(os.environ["FAKE_LOG"], "a") as handle:
            handle.write("{} {:.3f} {} {} {} {} {}\n".format(what, time.time(), machine, command, key, os.getpid(),
                                                            int(seen)))

    log("start")
    if os.environ.get("FAKE_HANG") == machine:
        time.sleep(3600)
    if os.environ.get("FAKE_FAIL") == machine + ":" + key and not os.path.exists(os.environ["FAKE_LOG"] + ".failed"):
        open(os.environ["FAKE_LOG"] + ".failed", "w").close()
        log("end")
        return 3
    time.sleep(float(os.environ.get("FAKE_SLEEP_S", "0.5")))
    if command == "retrain" and key.endswith("__baseline__fp32"):
        os.makedirs(os.path.join(results, "models"), exist_ok=True)
        with open(os.path.join(results, "models", key + ".model.zip"), "w") as handle:
            handle.write("placeholder baseline\n")
    elif command == "retrain":
        os.makedirs(os.path.join(results, "retrained", key), exist_ok=True)
        with open(os.path.join(results, "retrained", key, "manifest.json"), "w") as handle:
            handle.write('{"placeholder": true}\n')
    else:
        with open(os.path.join(REFERENCE, key.replace("0.1", "0.05") + ".json")) as handle:
            data = json.load(handle)
        data["cell"] = dict(data["cell"], key=key)
        if "__prune__threshold-" in key:
            data["cell"]["setting"] = {"threshold": float(key.rsplit("-", 1)[1])}
        data["environment"]["fake_cell"] = "yes (tests/data/fleet_fake_artifact.py)"
        data["environment"]["package_seen"] = str(seen)
        os.makedirs(os.path.join(results, "records"), exist_ok=True)
        tmp = os.path.join(results, "records", ".tmp-" + key)
        with open(tmp, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, os.path.join(results, "records", key + ".json"))
    log("end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
