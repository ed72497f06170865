import pytest

from artifact.core.errors import ConfigError
from artifact.core.profiles import available_profiles, load_profile
from artifact.core.techniques import TECHNIQUES


def test_embedded_profile_covers_every_technique():
    profile = load_profile("embedded")
    assert {c.technique for c in profile.cells} == set(TECHNIQUES)
    bits = {c.setting.get("bits") for c in profile.cells if c.technique == "quantize"}
    assert bits == {6, 8, 16}
    assert len({c.key for c in profile.cells}) == len(profile.cells)
    assert "embedded" in available_profiles()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("format_version = 1\nname = 'x'\n[[group]\n", "not valid TOML"),
        ("format_version = 2\nname = 'x'\n", "format_version 2"),
        ("format_version = 1\nname = 'x'\n[[group]]\ntechnique='zip'\nmodels=['a']\nmetrics=[]\n", "technique 'zip'"),
        ("format_version = 1\nname = 'x'\n[[group]]\ntechnique='baseline'\nmodels=['a']\nmetrics=['speed']\n",
         "metric 'speed' unknown"),
        ("format_version = 1\nname = 'x'\n[measurement]\nrepeats = 3\n[[group]]\n", "'repeats' is not a setting"),
        ("format_version = 1\nname = 'x'\n[[group]]\nmodels=['a']\nmetrics=[]\n", "missing field 'technique'"),
    ],
)
def test_bad_profiles_get_one_line_naming_file_and_field(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_profile(str(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unknown_profile_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match="choose one of: .*embedded"):
        load_profile("nope")


def test_smoke_profile_is_the_ci_slice_with_fewer_training_epochs():
    from artifact.device.models.architectures.mini_zoo import EPOCHS, scaled_epochs

    profile = load_profile("smoke")
    assert {c.model for c in profile.cells} == {"mini_vgg"}
    assert {c.technique for c in profile.cells} == {"baseline", "quantize", "prune"}
    assert profile.measurement["train_epochs_scale"] == 0.25
    assert scaled_epochs(EPOCHS["mini_vgg"], 0.25) == 3 and scaled_epochs(3, 0.1) == 1
    assert scaled_epochs(EPOCHS["mini_vgg"]) == EPOCHS["mini_vgg"]
    assert load_profile("embedded").measurement["train_epochs_scale"] == 1.0


GROUP = "format_version = 1\nname = 'x'\n[[group]]\n"


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ("technique='quantize'\nmodels=['mini_vgg']\nsettings=[{bit = 8}]\nmetrics=['params']\n",
         "quantize has no setting 'bit'; its settings: bits"),
        ("technique='quantize'\nmodels=['mini_vgg']\nsettings=[{bits = 33}]\nmetrics=['params']\n",
         r"bits = 33 is not valid: weight bit width, an integer from 2 to 16"),
        ("technique='quantize'\nmodels=['mini_vgg']\nsettings=[{bits = 8.5}]\nmetrics=['params']\n",
         r"bits = 8.5 is not valid"),
        ("technique='prune'\nmodels=['mini_vgg']\nsettings=[{threshold = 1.5}]\nmetrics=['params']\n",
         r"threshold = 1.5 is not valid: fraction of filters/neurons removed, in \(0, 1\)"),
        ("technique='prune'\nmodels=['mini_vgg']\nmetrics=['params']\n", "prune needs setting 'threshold'"),
        ("technique='quantize'\nmodels=['mini_vgg']\nsettings=[{bits = 8, threshold = 0.1}]\nmetrics=['params']\n",
         "quantize has no setting 'threshold'"),
        ("technique='quantize'\nmodels=['mini_vgg']\nsettings={bits = 8}\nmetrics=['params']\n",
         "settings must be a non-empty list of tables"),
        ("technique='litert'\nmodels=['mini_vgg']\nsettings=[{mode = 'int4'}]\nmetrics=['params']\n",
         "mode = 'int4' is not valid: LiteRT conversion: fp32, dynamic, float16, int8"),
        ("technique='baseline'\nmodels=['mini_vgq']\nmetrics=['params']\n",
         "model 'mini_vgq' unknown; known: mini_vgg"),
        ("technique='baseline'\nmodels=['mini_vgg']\nmetrics=['param']\n", "metric 'param' unknown"),
        ("technique='baseline'\nmodel=['mini_vgg']\nmetrics=['params']\n", "'model' is not a group field"),
        ("technique='quantise'\nmodels=['mini_vgg']\nmetrics=['params']\n", "technique 'quantise' unknown"),
        ("technique='baseline'\nmodels='mini_vgg'\nmetrics=['params']\n", "models must be a non-empty list"),
    ],
)
def test_a_typo_in_a_group_is_one_line_naming_file_group_and_fix(tmp_path, group, message):
    path = tmp_path / "typo.toml"
    path.write_text(GROUP + group)
    with pytest.raises(ConfigError, match=message) as info:
        load_profile(str(path))
    text = str(info.value)
    assert text.startswith(str(path) + ": group 1") and "\n" not in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[measurement]\nmin_windows = 'six'\n", "min_windows = 'six' must be a number"),
        ("[measurement]\nmin_windows = 2.5\n", "must be a whole number"),
        ("[measurement]\neval_samples = -5\n", "eval_samples = -5 must be at least 0"),
        ("[measurement]\npaired_timing = 1\n", "must be true or false"),
        ("[measurement]\nmin_windows = 20\nmax_windows = 10\n", "min_windows 20 is above max_windows 10"),
        ("[stands_for]\nmini_vgg = ['vgg_61']\n", "model 'vgg_61' unknown"),
        ("requires = ['imagenett']\n", "requires 'imagenett' is not a known input"),
        ("groups = []\n", "'groups' is not a profile field"),
    ],
)
def test_a_mistake_outside_the_groups_is_one_line_too(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text("format_version = 1\nname = 'x'\n" + text + "[[group]]\ntechnique='baseline'\n"
                    "models=['mini_vgg']\nmetrics=['params']\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_profile(str(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_profile_that_is_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"format_version = 1\nname = 'caf\xe9'\n")
    with pytest.raises(ConfigError, match="not UTF-8 text.*save the profile file as UTF-8"):
        load_profile(str(path))


def test_a_typo_stops_run_before_any_training(tmp_path, capsys):
    from artifact.cli import main

    path = tmp_path / "typo.toml"
    path.write_text(GROUP + "technique='quantize'\nmodels=['mini_vgg']\nsettings=[{bit = 8}]\nmetrics=['params']\n")
    assert main(["run", "--profile", str(path), "--results", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no setting 'bit'" in err[0]
    assert not (tmp_path / "out").exists()  # nothing trained, nothing written
