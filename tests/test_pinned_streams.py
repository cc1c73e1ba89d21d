"""The event stream of every shipped scenario, pinned: seeds 1-3, both built-in policies.

Determinism is the product's contract: the same scenario, seed and commands give the same
events. A refactor proves it changed nothing by leaving these pins as they are; a change of
the model made on purpose updates them in the same commit and says why in its message.
Regenerate with ``AMBSIM_REPIN=1 python -m pytest tests/test_pinned_streams.py -s``, which
prints the new table instead of failing.
"""

from __future__ import annotations

import os
from functools import cache

import pytest

from ambsim_gui.headless import build_from, run_scenario
from ambsim_gui.paths import SCENARIOS
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.sim.world import World

PINS: dict[str, str] = {
    "c2_segmentation/expert/1": "bb108bcd17673ecbd1b3e305ce4740bc146bd22829eb4f4db202127fab0a3039",
    "c2_segmentation/expert/2": "578b89d5eeb52bc5301d409a88efa6f9f6ab082ac3dec63853ddd707245fd6cb",
    "c2_segmentation/expert/3": "ee6fc36e4e96f0069d2a9842ab5dbe7229691ed31abccfe70b4005c533ef8e69",
    "c2_segmentation/target_chaser/1": "aeae1989c08b17e7c5ff74fd219dd07eb93bc7c76b642737d9ef262b72f1dc3d",
    "c2_segmentation/target_chaser/2": "6fd1e5b4b2a2499d24e9c9607f6057b1cb6b2d1ddc51b1257a59ca68be3b3737",
    "c2_segmentation/target_chaser/3": "53254ce7459156af28d4deee340d45d41f49602e793623012ad49ffc8709aef5",
    "default/expert/1": "b226f74c9c336f222591bfa6a87c69636f19dc5bd3a6eed501fbb18b979ecf3b",
    "default/expert/2": "330e90d7848e17f8b22b3ae6b46ce3df5e76aff069684820cc1121962e0f1038",
    "default/expert/3": "d466a03965d2ab78cc32f42688adbfde4692a232ba6121b751fd08c8f1f48968",
    "default/target_chaser/1": "3657c3cd5db0339dd06ca638e920234e4a3c3e72867c450345fac5f9f9173aab",
    "default/target_chaser/2": "06efae264a240cd2488f407fc17890392469583dc76b983cf89054b6f6a4069e",
    "default/target_chaser/3": "fc836a1a9d3df51e9a840836f477f4108c4e473eb694b01a0f44b03e7fd8fd32",
    "first_shift_tutorial/expert/1": "fc6daf99bab86ff2a417107ec8c025bf7b2d82cc727a6facccd1fd4bc65d5c5f",
    "first_shift_tutorial/expert/2": "db2e186aa27e492a5bc9a86435d74ba91ad4d72006c952f95b75d4b1cf28f0c3",
    "first_shift_tutorial/expert/3": "f8899eb93ba8137ac948fa451f27c43bbf4cab1ed4f1020a869442e26732739b",
    "first_shift_tutorial/target_chaser/1": "48014fd6c4e7486196be5a3e1dff7201ea5eed0ca5aa25438fdcb748b9648ae6",
    "first_shift_tutorial/target_chaser/2": "152d24f00a4754630c53340c09fcf3b571a5b21ea068be3f42e941974e4dd7db",
    "first_shift_tutorial/target_chaser/3": "b643c54afcf6047710ec3b0c59ce285e8f6562ecb20b7aa8e2305f637ff019ff",
    "hear_and_treat_hub/expert/1": "b0d595ad39cf6e8fccfa1c3fe467edd7e040878804618e004b6e9869cbe79526",
    "hear_and_treat_hub/expert/2": "23daf3216f142a6d98b0e58f7f5c3c757c7d7cf2520497581abe23848b091aa2",
    "hear_and_treat_hub/expert/3": "11f16f3fb78acd1dae1c92100d59075126f87a2e2a90c4a77f349f319b6f933b",
    "hear_and_treat_hub/target_chaser/1": "a55332c768a4c5222c573ee8dd3929eafb532d64a8c31628ebc7b9ab650f5984",
    "hear_and_treat_hub/target_chaser/2": "f02906914633565ac819557084289b9747ec765add3b5ccd6f7204a72be105f1",
    "hear_and_treat_hub/target_chaser/3": "5e243e059fc70c2450668351fa01c241ba4cbd74be7ba0ba6d1e8c174f328f87",
    "legacy_cat_a_targets/expert/1": "a2afe255298a0a098cd86143213d62b7678421c8127d38c39f727ebfb7a210c5",
    "legacy_cat_a_targets/expert/2": "f972f45adcd339fb03044608f229cd2f097eb4c836efde0c6cf79134d458dd77",
    "legacy_cat_a_targets/expert/3": "f50d8052d6f7e55b1a30c0c9be4703d8c4144c6bb23c70e685825a0fd9890e8c",
    "legacy_cat_a_targets/target_chaser/1": "3efa69e2f07f5a6dbd9ffb5a59bae2ac51853e8c8705457ce49a88692e2d51f6",
    "legacy_cat_a_targets/target_chaser/2": "55413f4f3e69ddb5c41ecdd488a5badd51e14bbc651b912f9c3551942b9dd807",
    "legacy_cat_a_targets/target_chaser/3": "15f0b33054abf3a484304855e7715467031848e41aa5c47720dac41531b63f9b",
    "metropolitan_24h/expert/1": "aa6de368384ad16fbb8b256ae060b57eafeea21896d175f016b1036137a97b70",
    "metropolitan_24h/expert/2": "42701823a129d6af7fbe47d5628864396377ecd50165f4f24f2a2b9b3e0c990c",
    "metropolitan_24h/expert/3": "ca16918756cca2a0b60dc4db3c8c2550c30e7dafec301c6fdb11526d0e6c72ff",
    "metropolitan_24h/target_chaser/1": "bccf9a316c242a4af95bc598037f43b8a8a5aba45fe7a2b329c2b4471b772163",
    "metropolitan_24h/target_chaser/2": "dd3a5555b1e353a1580d83eacda24b942cacc958782a61f4046a6dcda8696a23",
    "metropolitan_24h/target_chaser/3": "7387f683c38fd205bd41b72106c2e7583b3c3f341add470f6405ea2c3f5b746d",
    "motorway_pileup/expert/1": "0afe3df16a762bbf7b21b71d9ab63060352e1fb034e991b9860a235c97e9ad06",
    "motorway_pileup/expert/2": "b8130b8faf31a03955f67da8c0059c6655007a803ac97407142f3f7bf2160d74",
    "motorway_pileup/expert/3": "5777c5c3da979d441c7d33dc04ee3d459df3dc2d76e82b419b546e11186f5943",
    "motorway_pileup/target_chaser/1": "7171aacbd957d54e08ab96020df6958cdcbfbbcd5308acecd09eb12856819f35",
    "motorway_pileup/target_chaser/2": "399f991d7b2ed87e9da6e251d4035ca9a6273306b3e0d94de3501e821fa6f447",
    "motorway_pileup/target_chaser/3": "354a75a9deb8e43769f9dab5e2bc0eb619874e8a418385ec8e28191a4b169aa8",
    "rtc_duplicate_callers/expert/1": "4e8628d4c0d79549d7993a4a28410761af72a60b59c40c13323e1b734c723298",
    "rtc_duplicate_callers/expert/2": "a648d59f58ec82b63e0e5f33ff1952d4e65a3b629ca219811fed38cacac66add",
    "rtc_duplicate_callers/expert/3": "850b17d18762e84293356a134380bfe2fba8e227c82a9013de474431c458198b",
    "rtc_duplicate_callers/target_chaser/1": "7036a9f7bd88ca364b20f050f96646bba342f5f9f05785e62a6483157ef494b9",
    "rtc_duplicate_callers/target_chaser/2": "31c6c7cc8be1c1fdeac55a6017ab56ac7c4934e7d458a47d7b29691bcd10accc",
    "rtc_duplicate_callers/target_chaser/3": "e1ccac11aec11a92123eeaee8fc28547093b0576d7d05be6f0895556a7e5736e",
    "rural_vs_urban/expert/1": "732c3a6c38602126fe00d65f4e2a2a1b112a8902213d477bb4e89e4b06cb495e",
    "rural_vs_urban/expert/2": "b2d361ffcb0683f20a7581723a761a07197bbb1afeae2cbde80be984b67d06a4",
    "rural_vs_urban/expert/3": "88fa03b8ccdde2009b8450865fa785de58e743553191c3a896c6c8d8020e5eae",
    "rural_vs_urban/target_chaser/1": "c67a221a5fac17156a445eabd625fd942c8cb00b70411fee409507651b827794",
    "rural_vs_urban/target_chaser/2": "e1c8188f8138f322b428e43680828548d44442703b4ae96553908c9b3f1a7c45",
    "rural_vs_urban/target_chaser/3": "ba06a930b8437ac60567489b4d2a4006109c18fd158de7467879856b227249cc",
    "winter_handover_crisis/expert/1": "0f127d1a6f62e12fe2db109ed1ce73ca0b18bc95abaf44efc302afa61bab3d21",
    "winter_handover_crisis/expert/2": "b508eb2dc1bd72c357b5faa0f7a12c566d3142aebad520f6e0eee121a40e07b1",
    "winter_handover_crisis/expert/3": "8f40375852126975a2fa6f57fb0dd1a7bd0a7e6c6e9c9c8c138024bbf543c6a6",
    "winter_handover_crisis/target_chaser/1": "214c3eff6dc1383804d092dc679a3f9f8c6715ad573735fa5daf0bbdafb9d864",
    "winter_handover_crisis/target_chaser/2": "347d5deb15a355938bb634ec8f3408012461a39a6386dbb9f7d232f753a4b31f",
    "winter_handover_crisis/target_chaser/3": "305aa20239e51800b8bd32bcf0a56ed516fe8498b977ff9c131145a054a9b8fa",
}

POLICIES = ("expert", "target_chaser")
SEEDS = (1, 2, 3)
SCENARIO_NAMES = sorted({key.split("/")[0] for key in PINS})


@cache
def _scenario(name: str) -> tuple[LoadedScenario, World]:
    loaded = load_scenario(SCENARIOS / f"{name}.yaml")
    return loaded, build_from(loaded)


def test_every_shipped_scenario_is_pinned() -> None:
    shipped = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    assert shipped == SCENARIO_NAMES
    assert len(PINS) == len(shipped) * len(POLICIES) * len(SEEDS)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_event_stream_is_pinned(name: str) -> None:
    loaded, world = _scenario(name)
    got = {}
    nao: dict[str, list[float]] = {}
    for policy in POLICIES:
        for seed in SEEDS:
            result = run_scenario(loaded.path, policy=policy, seed=seed, loaded=loaded, world=world)
            got[f"{name}/{policy}/{seed}"] = result.sha256
            counts = result.windows.run_out.nao
            nao.setdefault(policy, []).append(counts.dispatches_per_attended or 0.0)
            nao.setdefault(f"{policy}/multi", []).append(counts.multi_vehicle_share or 0.0)
    # What the NAO found (docs/domain.md, Why ambsim exists): chasing the clock sends more
    # vehicles per incident attended than dispatching on need, in every shipped scenario
    assert sum(nao["target_chaser"]) > sum(nao["expert"]), nao
    if name == "metropolitan_24h":  # London-sized: the NAO's own figures, at least
        assert min(nao["target_chaser"]) >= 1.27, nao
        assert sum(nao["target_chaser/multi"]) / len(SEEDS) >= 0.45, nao
    if os.environ.get("AMBSIM_REPIN"):
        for key, digest in got.items():
            print(f'    "{key}": "{digest}",')
        return
    want = {key: digest for key, digest in PINS.items() if key.startswith(f"{name}/")}
    assert got == want
