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
    "c2_segmentation/expert/1": "1d0a659ee95339b98110c0b326a14909e1d61a851052aa2dad4e91214b43547c",
    "c2_segmentation/expert/2": "3e317a85b30b303b642a425d489bd4c4ac9e9d2b8359d511da1443ac7c377196",
    "c2_segmentation/expert/3": "d5f92c53037e9896fa29d9fad2d7deb134957dedce53a2a429b54899f8c3f947",
    "c2_segmentation/target_chaser/1": "c9c1e0f9bf317605b918e55a7145de04886a2d728bb005ffe273c3b6c0e683eb",
    "c2_segmentation/target_chaser/2": "11bfdfcd9a2fc396c49f9c1ec4acd56984412adfc911abce8d45a5127dd1265f",
    "c2_segmentation/target_chaser/3": "42532ad80527046c7673ce42f2aa9c5a6db744ba7f9d5b537629129be03ed6cf",
    "default/expert/1": "e40d5fb35073a3aa0aed9539fc2606ae61831b8f284ab2ffda1a3ffa93a59059",
    "default/expert/2": "a7988626b001f160cf9a79f903afff45aa9a2ef2122f105f66f55c32b09876bb",
    "default/expert/3": "473e01f80dbb3e8aa84bd0d1b6e4aaf8d7c71ff3d5de0a7ee1a8cf71f00ff486",
    "default/target_chaser/1": "b2b921f8f72fcb1e7d4b4261da0ce6a8ffe43c30b9aecd751c2611e4118aea6d",
    "default/target_chaser/2": "48ae4d30e620b180359f5dc88feaef1cde3d6ec3405822c83a132e7fbb9cd411",
    "default/target_chaser/3": "dbb6b0d63a0528f5cfa5738d4641a6d92a23c3bacf95a234d43af00f5e381f6b",
    "first_shift_tutorial/expert/1": "180abfe34c186d69d29437f10991b16541e69b03246911d7142e409af2ec3003",
    "first_shift_tutorial/expert/2": "07a290a0a2631420458dd52bbce07dbbc7dc86ae38355404fdbf3b5ad20d2a32",
    "first_shift_tutorial/expert/3": "202904982eacbf9117af1f0eb4dff3ce0c5dd08bb5f1cbcb8194de99f698ab68",
    "first_shift_tutorial/target_chaser/1": "b03670d608d0aa51b2afb0c05fc636e08b4cffa1398b28d65e7f218eb7900b4f",
    "first_shift_tutorial/target_chaser/2": "11d80fabd05915046139dc6d101d20c2c7bea624354c4a7af96a1b8134fdee77",
    "first_shift_tutorial/target_chaser/3": "8310d3f927fef69796f582a6859a34b5e84b3dc45e916d58ddcb3a3430cfe26b",
    "hear_and_treat_hub/expert/1": "c34a6150cb65cc5bfd50dd7bd7d4b0ccfad700e7f419225f8693280ae87632cf",
    "hear_and_treat_hub/expert/2": "87c8431fd2c06045e2f6b7bb369ddb47f130b8b6c800e2de5603f8088cff183d",
    "hear_and_treat_hub/expert/3": "793ccb49ab87b82ee8b5c498f51033327164beeebbccbd32f2be02798f51918c",
    "hear_and_treat_hub/target_chaser/1": "4e0bcdf65e5164702d99cf00e505257963b5a3770483edbf156f3c78e6067cbb",
    "hear_and_treat_hub/target_chaser/2": "877e8d0d1421bd822bcd4bcc8e3a25ecc0c6e2606d200319da2016edeecd4965",
    "hear_and_treat_hub/target_chaser/3": "f3fdb886ddfcf4a75a06bcae2c4bef1b2b04e7129136c554cc8d7796a4a7ea23",
    "legacy_cat_a_targets/expert/1": "3bcdd0c65c3666520ed74e149fbf80dc73297e2fc0b6932b7c8d8f20f11eb3f2",
    "legacy_cat_a_targets/expert/2": "de9f8c47614d6a2738670b78cc64606c1813b576a6fb9ffcf30239713c2761a5",
    "legacy_cat_a_targets/expert/3": "2e453ed9ff10b4daf2e99d1f2e47ff5b4d5dff7421c52dd705d7ea75c0e0d662",
    "legacy_cat_a_targets/target_chaser/1": "3afb4adc19041e1bb49df4e802045047ed93a5087bfb94d53e4ad88b635cd274",
    "legacy_cat_a_targets/target_chaser/2": "ca5adbec7fe573d2b8b3cfddd20b8353669145b91ec80267c6ef97981eb4785e",
    "legacy_cat_a_targets/target_chaser/3": "9f09415bcdf5726a5649d9a494440bc0a10823ff9073c7793eb2c9b133fea61d",
    "metropolitan_24h/expert/1": "6fafeb9b6f71c946464f40d93165716067e8b53a53755f0467bfafde6e52abf4",
    "metropolitan_24h/expert/2": "d5ce05f984296bd6c856315fd68855dd16731e09d8c476b7f2a3159f6268b159",
    "metropolitan_24h/expert/3": "3dc820cd57f73d5a5a92ac45a5bf5928f56e9a2eefbd52d8b65eabe3541534ee",
    "metropolitan_24h/target_chaser/1": "406d0edf8748da7fe3f1df778183a8c8540e2d18b30404f027da93806e9a8771",
    "metropolitan_24h/target_chaser/2": "028a9d8921eb3323d739c9abd5beb94e3189ac091ca401bcf812a7a18a3f877f",
    "metropolitan_24h/target_chaser/3": "896959794f128173f52064959f7d595249159956e1662d8efe24256b144e1301",
    "rtc_duplicate_callers/expert/1": "a2e44f2c9cfdf475d73560cea52e50b8800a53e25c61eaad28cc228b5243958c",
    "rtc_duplicate_callers/expert/2": "616d9bffe7baf23e04573805b3873567868404f611c3a6008dd5868d6a2b575a",
    "rtc_duplicate_callers/expert/3": "d197044a3b8e538e6e5502a20927783c27b4ec04288b536d8b85e83fa88c79ff",
    "rtc_duplicate_callers/target_chaser/1": "ef1d80c99af0def7351aa1134a9dc07ee8c04ea64ac57d3cdc714e8cc3d0dc90",
    "rtc_duplicate_callers/target_chaser/2": "a9a69e0bd3f896ab591916e8b3f4062997eb5d4f939e76e4844f658af9969ddb",
    "rtc_duplicate_callers/target_chaser/3": "dc6ab63c3a590034669d4f9d138d05848acb0c0616cb84ed4822d8318b1211ca",
    "rural_vs_urban/expert/1": "0ad45a3d610fd8d27aa32277950c81eb4c7bd94c0e594eacda51787f0dad52e8",
    "rural_vs_urban/expert/2": "c296a36f6ac9f4c876d6524052f7e915c2153a9ae23fae09af2ba75083f528a6",
    "rural_vs_urban/expert/3": "a43b5c5dd88dc36ac02d611f8fc0837446bb2dc613ed4c5aeff6997dc70e4cd8",
    "rural_vs_urban/target_chaser/1": "3e95835c5d9255dfc541f616795a8d65c28616b9fc12a02b07ad73401f7e10cf",
    "rural_vs_urban/target_chaser/2": "95b0438e7ec585b335bfaa172ef4a927ecd95bebeb85399c56f8857df25d889f",
    "rural_vs_urban/target_chaser/3": "3dd2c06d3e3e2e1d1b4f072b65b368c24df7d3eae1c0095a6b958bb79e21b36b",
    "winter_handover_crisis/expert/1": "d8bb1695ff97bdde57f94479694818d161186ecb8ab238618b8f7fbf5d36e5dd",
    "winter_handover_crisis/expert/2": "63167953a399bb8f837f35a19ccd573d78f8f2a41e5cbba6873aa5ab27aba6e6",
    "winter_handover_crisis/expert/3": "099380073ca32e06cc7889b6e7d5896fc750165b6b2e8e9dfc2ae6954e2b9533",
    "winter_handover_crisis/target_chaser/1": "a55c6ff31ac6f7cebc7e92914a50347e8ef0724cfb583dd12a019af1337e28aa",
    "winter_handover_crisis/target_chaser/2": "c01018bee29e1ee93ccb7d27eed4b597817d3a579fc12119921776af3bbf882c",
    "winter_handover_crisis/target_chaser/3": "947469fc8089f10628af08e34dee810e8f17fb9bcb5c9a146025ee3b65b06dfd",
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
    for policy in POLICIES:
        for seed in SEEDS:
            result = run_scenario(loaded.path, policy=policy, seed=seed, loaded=loaded, world=world)
            got[f"{name}/{policy}/{seed}"] = result.sha256
    if os.environ.get("AMBSIM_REPIN"):
        for key, digest in got.items():
            print(f'    "{key}": "{digest}",')
        return
    want = {key: digest for key, digest in PINS.items() if key.startswith(f"{name}/")}
    assert got == want
