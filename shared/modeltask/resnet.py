"""ResNet-18 (He et al., CVPR 2016) with torchvision's layer layout and parameter names.

Written here rather than imported: torchvision's wheel does not load beside the torch build AURA
pins. The topology is torchvision's `resnet18` (7x7 stem, max-pool, four stages of two basic blocks
of 64/128/256/512 channels, global average pool, one linear layer), and so are the state-dict
names, so a torchvision ResNet-18's weights load into it. Two differences, both invisible in the
weights: each block has its own two ReLU modules (torchvision reuses one, in place), because
attributions rescale each activation once per call; and the input channel count is a parameter.
With 3 input channels and 1,000 classes it has torchvision's 11,689,512 parameters (tested).
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a shortcut (a 1x1 projection when the shape changes)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU()
        self.downsample: nn.Module | None = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))."""
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        result: torch.Tensor = self.relu2(out + identity)
        return result


class ResNet18(nn.Module):
    """ResNet-18 for `in_channels`-channel images and `num_classes` classes."""

    def __init__(self, in_channels: int = 3, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        widths = (64, 128, 256, 512)
        inplanes = 64
        for index, planes in enumerate(widths, start=1):
            stride = 1 if index == 1 else 2
            self.add_module(f"layer{index}", nn.Sequential(BasicBlock(inplanes, planes, stride),
                                                           BasicBlock(planes, planes)))
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        for module in self.modules():  # torchvision's initialisation
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, shape (n, num_classes)."""
        h = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for index in range(1, 5):
            h = getattr(self, f"layer{index}")(h)
        logits: torch.Tensor = self.fc(torch.flatten(self.avgpool(h), 1))
        return logits
