"""The built-in registry: public checkpoints and the metric networks the metrics need.

Every URL below is copied from the repository file named in the entry's ``source``. A sha256 is
given only where the source publishes one: the torch.hub file names of torchvision embed the first
8 hex digits of the digest (checked as a prefix), and the LPIPS linear weights are pinned to the
blobs of richzhang/PerceptualSimilarity (git blob ids verified identical to the copies in the
``lpips`` 0.1.4 wheel, whose sha256 is recorded here). NVIDIA publishes no digests: those files
get their sha256 recorded at first download and enforced afterwards.
"""

from __future__ import annotations

from ._entry import WeightsEntry

__all__ = ["builtin_entries", "CELEBAHQ_ATTRIBUTES"]

_SG1_LICENCE = "CC BY-NC 4.0 (NVIDIA)"
_SG1_SOURCE = "NVlabs/stylegan README.md and generate_figures.py (commit 1e0d5c7); cite Karras et al., CVPR 2019"
_SG2_LICENCE = "Nvidia Source Code License-NC"
_SG2_SOURCE = "NVlabs/stylegan2 pretrained_networks.py and README.md (commit bf0fe0b); cite Karras et al., CVPR 2020"
_ADA_LICENCE = "NVIDIA Source Code License for StyleGAN2-ADA (non-commercial)"
_ADA_SOURCE = "NVlabs/stylegan2-ada-pytorch README.md (commit d72cc7d); cite Karras et al., NeurIPS 2020"
_CLASSIFIER_SOURCE = (
    "NVlabs/stylegan2 and NVlabs/stylegan metrics/linear_separability.py; cite Karras et al., CVPR 2019"
)
_SG2_CDN = "https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/"
_ADA_CDN = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/"
_SG1_METRICS_CDN = "https://nvlabs-fi-cdn.nvidia.com/stylegan/networks/metrics/"
_DRIVE = "https://drive.google.com/uc?id="

#: The 40 CelebA-HQ attributes of NVIDIA's classifiers, in classifier-index order (this is NOT
#: CelebA's alphabetical order). Source: NVlabs/stylegan metrics/linear_separability.py.
CELEBAHQ_ATTRIBUTES: tuple[str, ...] = (
    "male", "smiling", "attractive", "wavy-hair", "young", "5-o-clock-shadow", "arched-eyebrows",
    "bags-under-eyes", "bald", "bangs", "big-lips", "big-nose", "black-hair", "blond-hair", "blurry",
    "brown-hair", "bushy-eyebrows", "chubby", "double-chin", "eyeglasses", "goatee", "gray-hair",
    "heavy-makeup", "high-cheekbones", "mouth-slightly-open", "mustache", "narrow-eyes", "no-beard",
    "oval-face", "pale-skin", "pointy-nose", "receding-hairline", "rosy-cheeks", "sideburns",
    "straight-hair", "wearing-earrings", "wearing-hat", "wearing-lipstick", "wearing-necklace",
    "wearing-necktie",
)  # fmt: skip

# Google Drive ids of the classifiers in the v1 repository (fallback when the CDN is unreachable).
_CLASSIFIER_DRIVE_IDS: tuple[str, ...] = (
    "1Q5-AI6TwWhCVM7Muu4tBM7rp5nG_gmCX", "1Q5c6HE__ReW2W8qYAXpao68V1ryuisGo", "1Q7738mgWTljPOJQrZtSMLxzShEhrvVsU",
    "1QBv2Mxe7ZLvOv1YBTLq-T4DS3HjmXV0o", "1QIvKTrkYpUrdA45nf7pspwAqXDwWOLhV", "1QJPH5rW7MbIjFUdZT7vRYfyUjNYDl4_L",
    "1QPZXSYf6cptQnApWS_T83sqFMun3rULY", "1QPgoAZRqINXk_PFoQ6NwMmiJfxc5d2Pg", "1QQPQgxgI6wrMWNyxFyTLSgMVZmRr1oO7",
    "1QcSphAmV62UrCIqhMGgcIlZfoe8hfWaF", "1QdWTVwljClTFrrrcZnPuPOR4mEuz7jGh", "1QgvEWEtr2mS4yj1b_Y3WKe6cLWL3LYmK",
    "1QidfMk9FOKgmUUIziTCeo8t-kTGwcT18", "1QthrJt-wY31GPtV8SbnZQZ0_UEdhasHO", "1QvCAkXxdYT4sIwCzYDnCL9Nb5TDYUxGW",
    "1QvLWuwSuWI9Ln8cpxSGHIciUsnmaw8L0", "1QxW6THPI2fqDoiFEMaV6pWWHhKI_OoA7", "1R71xKw8oTW2IHyqmRDChhTBkW9wq4N9v",
    "1RDn_fiLfEGbTc7JjazRXuAxJpr-4Pl67", "1RGBuwXbaz5052bM4VFvaSJaqNvVM4_cI", "1RIxOiWxDpUwhB-9HzDkbkLegkd7euRU9",
    "1RPaNiEnJODdr-fwXhUFdoSQLFFZC7rC-", "1RQH8lPSwOI2K_9XQCZ2Ktz7xm46o80ep", "1RXZM61xCzlwUZKq-X7QhxOg0D2telPow",
    "1RgASVHW8EWMyOCiRb5fsUijFu-HfxONM", "1RkC8JLqLosWMaRne3DARRgolhbtg_wnr", "1RqtbtFT2EuwpGTqsTYJDyXdnDsFCPtLO",
    "1Rs7hU-re8bBMeRHR-fKgMbjPh-RIbrsh", "1RynDJQWdGOAGffmkPVCrLJqy_fciPF9E", "1S0TZ_Hdv5cb06NDaCD8NqVfKy7MuXZsN",
    "1S3JPhZH2B4gVZZYCWkxoRP11q09PjCkA", "1S3pQuUz-Jiywq_euhsfezWfGkfzLZ87W", "1S6nyIl_SEI3M4l748xEdTV2vymB_-lrY",
    "1S9P5WCi3GYIBPVYiPTWygrYIUSIKGxbU", "1SANviG-pp08n7AFpE9wrARzozPIlbfCH", "1SArgyMl6_z7P7coAuArqUC2zbmckecEY",
    "1SC5JjS5J-J4zXFO9Vk2ZU2DT82TZUza_", "1SDAQWz03HGiu0MSOKyn7gvrp3wdIGoj-", "1SEtrVK-TQUC0XeGkBE9y7L8VXfbchyKX",
    "1SF_mJIdyGINXoV-I6IAxHB_k5dxiF6M-",
)  # fmt: skip


def _stylegan_v1() -> list[WeightsEntry]:
    # (dataset tag, resolution tag, Google Drive id, description)
    rows = [
        ("ffhq", "1024x1024", "1MEGjdvVpUsu1jB4zrXZN7Y4kBBOzizDQ", "StyleGAN (v1) FFHQ 1024x1024"),
        ("celebahq", "1024x1024", "1MGqJl28pN4t7SAtSrPdSRJSQJqahkzUf", "StyleGAN (v1) CelebA-HQ 1024x1024"),
        ("bedrooms", "256x256", "1MOSKeGF0FJcivpBI7s63V9YHloUTORiF", "StyleGAN (v1) LSUN Bedroom 256x256"),
        ("cars", "512x384", "1MJ6iCfNtMIRicihwRorsM3b7mmtmK9c3", "StyleGAN (v1) LSUN Car 512x384"),
        ("cats", "256x256", "1MQywl0FNt6lHu8E_EUqnRbviagS7fbiJ", "StyleGAN (v1) LSUN Cat 256x256"),
    ]
    return [
        WeightsEntry(
            name=f"stylegan-{tag}-{res}",
            kind="generator",
            filename=f"karras2019stylegan-{tag}-{res}.pkl",
            urls=(_DRIVE + drive_id,),
            licence=_SG1_LICENCE,
            source=_SG1_SOURCE,
            description=desc + " (TF pickle; Google Drive may refuse scripted downloads of large files)",
            format="nvidia-tf-pickle",
        )
        for tag, res, drive_id, desc in rows
    ]


def _stylegan2() -> list[WeightsEntry]:
    rows = [
        ("ffhq", "StyleGAN2 config-f FFHQ 1024x1024"),
        ("car", "StyleGAN2 config-f LSUN Car 512x384"),
        ("cat", "StyleGAN2 config-f LSUN Cat 256x256"),
        ("church", "StyleGAN2 config-f LSUN Church 256x256"),
        ("horse", "StyleGAN2 config-f LSUN Horse 256x256"),
    ]
    return [
        WeightsEntry(
            name=f"stylegan2-{tag}-config-f",
            kind="generator",
            filename=f"stylegan2-{tag}-config-f.pkl",
            urls=(f"{_SG2_CDN}stylegan2-{tag}-config-f.pkl",),
            licence=_SG2_LICENCE,
            source=_SG2_SOURCE,
            description=desc + " (TF pickle)",
            format="nvidia-tf-pickle",
        )
        for tag, desc in rows
    ]


def _stylegan2_ada_pytorch() -> list[WeightsEntry]:
    rows = [
        ("ffhq", "FFHQ 1024x1024, original StyleGAN2 training"),
        ("metfaces", "MetFaces 1024x1024, transfer from FFHQ with ADA"),
        ("afhqcat", "AFHQ Cat 512x512, ADA"),
        ("afhqdog", "AFHQ Dog 512x512, ADA"),
        ("afhqwild", "AFHQ Wild 512x512, ADA"),
        ("brecahad", "BreCaHAD 512x512, ADA"),
        ("cifar10", "class-conditional CIFAR-10 32x32"),
    ]
    return [
        WeightsEntry(
            name=f"stylegan2-ada-pytorch-{tag}",
            kind="generator",
            # the URL basename (e.g. ffhq.pkl) is too generic for a shared cache folder
            filename=f"stylegan2-ada-pytorch-{tag}.pkl",
            urls=(f"{_ADA_CDN}{tag}.pkl",),
            licence=_ADA_LICENCE,
            source=_ADA_SOURCE,
            description=f"stylegan2-ada-pytorch {desc} (torch pickle)",
            format="nvidia-torch-pickle",
        )
        for tag, desc in rows
    ]


def _metric_networks() -> list[WeightsEntry]:
    vgg_licence = "VGG-16 CC BY 4.0 (Simonyan & Zisserman); LPIPS weights BSD-2-Clause (Zhang et al.)"
    lpips_source = (
        "richzhang/PerceptualSimilarity lpips/weights/v0.1 (commit 082bb24), identical to the lpips 0.1.4 wheel; "
        "cite Zhang et al., CVPR 2018"
    )
    lpips_raw = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/"
    tv_source = "torchvision {module}.py weights URL (torchvision 0.29.1); the file name embeds the sha256 prefix"
    entries = [
        WeightsEntry(
            name="nvidia-vgg16-lpips",
            kind="lpips",
            filename="vgg16.pt",
            urls=(f"{_ADA_CDN}metrics/vgg16.pt",),
            licence=vgg_licence + "; redistributed by NVIDIA",
            source="NVlabs/stylegan2-ada-pytorch metrics/perceptual_path_length.py and precision_recall.py",
            description="NVIDIA's LPIPS-VGG16 TorchScript used by stylegan2-ada-pytorch PPL and PR",
            format="torchscript",
        ),
        WeightsEntry(
            name="nvidia-vgg16-zhang-perceptual-tf",
            kind="lpips",
            filename="vgg16_zhang_perceptual.pkl",
            urls=(f"{_SG1_METRICS_CDN}vgg16_zhang_perceptual.pkl", _DRIVE + "1N2-m9qszOeVC9Tq77WxsLnuWwOedQiD2"),
            licence=vgg_licence + "; redistributed by NVIDIA",
            source="NVlabs/stylegan2 metrics/perceptual_path_length.py; NVlabs/stylegan README.md",
            description="NVIDIA's LPIPS-VGG16 TF pickle used by StyleGAN v1/v2 PPL",
            format="nvidia-tf-pickle",
        ),
        WeightsEntry(
            name="nvidia-inception-2015-12-05",
            kind="inception",
            filename="inception-2015-12-05.pt",
            urls=(f"{_ADA_CDN}metrics/inception-2015-12-05.pt",),
            licence="Apache-2.0 (TensorFlow Models Inception-v3); redistributed by NVIDIA",
            source="NVlabs/stylegan2-ada-pytorch metrics/frechet_inception_distance.py",
            description="NVIDIA's TorchScript translation of the 2015-12-05 TF Inception (FID/KID)",
            format="torchscript",
        ),
        WeightsEntry(
            name="nvidia-inception-v3-features-tf",
            kind="inception",
            filename="inception_v3_features.pkl",
            urls=(f"{_SG1_METRICS_CDN}inception_v3_features.pkl", _DRIVE + "1MzTY44rLToO5APn8TZmfR7_ENSe5aZUn"),
            licence="Apache-2.0 (TensorFlow Models Inception-v3); redistributed by NVIDIA",
            source="NVlabs/stylegan2 metrics/frechet_inception_distance.py; NVlabs/stylegan README.md",
            description="NVIDIA's Inception-v3 feature TF pickle used by StyleGAN v1/v2 FID",
            format="nvidia-tf-pickle",
        ),
        WeightsEntry(
            name="pytorch-fid-inception",
            kind="inception",
            filename="pt_inception-2015-12-05-6726825d.pth",
            urls=(
                "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                "pt_inception-2015-12-05-6726825d.pth",
            ),
            # pytorch-fid loads it with check_hash=False: the suffix is not documented as a digest.
            licence="Apache-2.0 (pytorch-fid; TensorFlow Models Inception-v3)",
            source="mseitzer/pytorch-fid src/pytorch_fid/inception.py FID_WEIGHTS_URL (pytorch-fid 0.3.0)",
            description="pytorch-fid's port of the 2015-12-05 TF Inception (FID)",
            format="state-dict",
        ),
        WeightsEntry(
            name="torchvision-vgg16",
            kind="backbone",
            filename="vgg16-397923af.pth",
            urls=("https://download.pytorch.org/models/vgg16-397923af.pth",),
            sha256="397923af",
            licence="VGG-16 CC BY 4.0 (Simonyan & Zisserman); torchvision BSD-3-Clause",
            source=tv_source.format(module="vgg"),
            description="torchvision VGG16 IMAGENET1K_V1 (LPIPS-VGG backbone)",
            format="state-dict",
        ),
        WeightsEntry(
            name="torchvision-alexnet",
            kind="backbone",
            filename="alexnet-owt-7be5be79.pth",
            urls=("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",),
            sha256="7be5be79",
            licence="torchvision BSD-3-Clause",
            source=tv_source.format(module="alexnet"),
            description="torchvision AlexNet IMAGENET1K_V1 (LPIPS-alex backbone)",
            format="state-dict",
        ),
        WeightsEntry(
            name="torchvision-squeezenet1_1",
            kind="backbone",
            filename="squeezenet1_1-b8a52dc0.pth",
            urls=("https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",),
            sha256="b8a52dc0",
            licence="torchvision BSD-3-Clause",
            source=tv_source.format(module="squeezenet"),
            description="torchvision SqueezeNet 1.1 IMAGENET1K_V1 (LPIPS-squeeze backbone)",
            format="state-dict",
        ),
    ]
    lin = [
        ("vgg", "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868", 7289),
        ("alex", "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0", 6009),
        ("squeeze", "4a5350f23600cb79923ce65bb07cbf57dca461329894153e05a1346bd531cf76", 10811),
    ]
    entries += [
        WeightsEntry(
            name=f"lpips-v0.1-{net}-lin",
            kind="lpips",
            filename=f"lpips-v0.1-{net}.pth",
            urls=(f"{lpips_raw}{net}.pth",),
            sha256=sha,
            size=size,
            licence="BSD-2-Clause (Zhang et al.)",
            source=lpips_source,
            description=f"LPIPS v0.1 linear-layer weights for the {net} backbone",
            format="state-dict",
            package_file=("lpips", f"weights/v0.1/{net}.pth"),
        )
        for net, sha, size in lin
    ]
    return entries


def _celebahq_classifiers() -> list[WeightsEntry]:
    out = []
    for index, (attr, drive_id) in enumerate(zip(CELEBAHQ_ATTRIBUTES, _CLASSIFIER_DRIVE_IDS)):
        stem = f"celebahq-classifier-{index:02d}-{attr}"
        out.append(
            WeightsEntry(
                name=stem,
                kind="classifier",
                filename=f"{stem}.pkl",
                urls=(
                    f"{_SG1_METRICS_CDN}{stem}.pkl",
                    f"https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada/pretrained/metrics/{stem}.pkl",
                    _DRIVE + drive_id,
                ),
                licence=_SG1_LICENCE,
                source=_CLASSIFIER_SOURCE,
                description=f"CelebA-HQ attribute classifier {index:02d} '{attr}' (TF pickle, 256x256 input)",
                format="nvidia-tf-pickle",
            )
        )
    return out


def builtin_entries() -> list[WeightsEntry]:
    """Every built-in (non-zoo) entry, in listing order."""
    return [*_stylegan_v1(), *_stylegan2(), *_stylegan2_ada_pytorch(), *_metric_networks(), *_celebahq_classifiers()]
