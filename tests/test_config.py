from pathlib import Path

import pytest

from scientist.config import CampaignConfig, ModelsConfig, dump_config, load_config, set_dotted
from scientist.errors import ConfigError
from scientist.llm.router import LLM

OFFLINE_SPELLINGS = ["none", "None", " NONE ", "", "  "]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "campaign.toml"
    path.write_text(text)
    return path


def test_file_then_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, 'template = "merge"\nmax_ideas = 5\n[models]\ndefault = "openai:x"\n')
    config = load_config(path, {"max_ideas": 2, "models.review": "anthropic:y", "smoke": None})
    assert config.template == "merge"
    assert config.max_ideas == 2
    assert config.models.for_role("review") == ["anthropic:y"]
    assert config.models.for_role("ideas") == ["openai:x"]
    assert config.smoke is False


def test_model_pool_and_offline() -> None:
    config = CampaignConfig(template="merge")
    assert config.models.for_role("code") == ["none"]
    config.models.code = ["openai:a", "anthropic:b"]
    assert config.models.for_role("code") == ["openai:a", "anthropic:b"]
    assert config.models.for_role("review") == ["none"]


@pytest.mark.parametrize("spelling", OFFLINE_SPELLINGS)
def test_every_spelling_of_none_is_none(spelling: str) -> None:
    models = ModelsConfig(default="openai:x", code=spelling, ideas=["openai:a", spelling])
    assert models.for_role("code") == ["none"]
    assert models.for_role("ideas") == ["openai:a", "none"]
    models.review = spelling
    assert models.for_role("review") == ["none"]


@pytest.mark.parametrize("spelling", OFFLINE_SPELLINGS)
def test_the_router_treats_every_spelling_of_none_as_offline(spelling: str) -> None:
    with LLM(ModelsConfig(default=spelling, code=spelling)) as llm:
        assert llm.for_role("code") is None
        assert llm.offline


@pytest.mark.parametrize("spelling", OFFLINE_SPELLINGS)
def test_a_tree_search_refuses_every_spelling_of_none(tmp_path: Path, spelling: str) -> None:
    text = 'template = "merge"\nsearch = "abmcts"\n[models]\ndefault = "openai:x"\n'
    with pytest.raises(ConfigError, match="search = 'abmcts' needs a model in the 'code' role"):
        load_config(write(tmp_path, f'{text}code = "{spelling}"\n'))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('template = "merge"\nmax_ideas = 0\n', "field 'max_ideas'"),
        ('template = "merge"\nmax_idea = 3\n', "unknown field 'max_idea'"),
        ("max_ideas = 3\n", "field 'template' is required"),
        ('template = "merge"\n[sandbox]\nkind = "vm"\n', "field 'sandbox.kind'"),
        ('template = "merge"\nseeds = [1, 1]\n', "seeds must be distinct"),
        ("template = \n", "is not valid TOML"),
        ('template = "merge"\n[sandbox]\ntimeout_s = inf\n', "field 'sandbox.timeout_s'"),
        ('template = "merge"\n[sandbox]\ncpus = 1e308\n', "field 'sandbox.cpus'"),
        ('template = "merge"\n[sandbox]\ncpus = nan\n', "field 'sandbox.cpus'"),
        ('template = "merge"\n[sandbox]\nmemory_mb = 10_000_000_000_000\n', "memory_mb"),
        ('template = "merge"\n[sandbox]\npids = 10_000_000_000\n', "field 'sandbox.pids'"),
        (
            'template = "merge"\n[writeup]\ncompile_timeout_s = inf\n',
            "field 'writeup.compile_timeout_s'",
        ),
        ('template = "merge"\n[models]\ntimeout_s = inf\n', "field 'models.timeout_s'"),
        ('template = "merge"\nbudget_usd = inf\n', "field 'budget_usd'"),
    ],
)
def test_bad_files_name_the_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_directory_or_binary_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(binary)


def test_dump_round_trips(tmp_path: Path) -> None:
    config = CampaignConfig(template="namm", budget_usd=1.5, seeds=[3, 4])
    again = load_config(write(tmp_path, dump_config(config)))
    assert again == config


def test_set_dotted_refuses_to_descend_into_a_value() -> None:
    data = {"models": "openai:x"}
    with pytest.raises(ConfigError, match="not a table"):
        set_dotted(data, "models.default", "y")


def test_base_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"field 'models\.base_url'"):
        load_config(write(tmp_path, 'template = "m"\n[models]\nbase_url = "localhost:8000"\n'))


def test_a_campaign_written_with_flat_backend_options_still_loads(tmp_path: Path) -> None:
    old = '[sandbox]\nkind = "local"\nimage = "img:1"\nray_node_backend = "local"\n'
    config = load_config(write(tmp_path, 'template = "merge"\n' + old))
    assert config.sandbox.backend_tables == {"docker": {"image": "img:1"}}
