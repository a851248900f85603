"""GAN training scripts in the idiom of public PyTorch tutorials, run on minigan with only the
imports pointed at it (the scripts are this project's own, written in that style)."""
import textwrap

import numpy as np

HEADER = """
import numpy as np
import minigan as torch
import minigan.nn as nn
import minigan.nn.functional as F
from minigan import optim
from minigan.autograd import Variable
from minigan.utils.data import DataLoader, TensorDataset
"""

VANILLA_AND_WGAN = """
torch.manual_seed(0)
cuda = True if torch.cuda.is_available() else False
Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
latent_dim, img_shape = 4, (1, 4, 4)

class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.model = nn.Sequential(nn.Linear(latent_dim, 32), nn.LeakyReLU(0.2, inplace=True),
                                   nn.Linear(32, int(np.prod(img_shape))), nn.Tanh())
    def forward(self, z):
        img = self.model(z)
        return img.view(img.size(0), *img_shape)

class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.model = nn.Sequential(nn.Linear(int(np.prod(img_shape)), 32),
                                   nn.LeakyReLU(0.2, inplace=True), nn.Dropout(0.1),
                                   nn.Linear(32, 1), nn.Sigmoid())
    def forward(self, img):
        return self.model(img.view(img.size(0), -1))

def weights_init_normal(m):
    if m.__class__.__name__.find("Linear") != -1:
        torch.nn.init.normal_(m.weight.data, 0.0, 0.02)

adversarial_loss = torch.nn.BCELoss()
generator, discriminator = Generator(), Discriminator()
generator.apply(weights_init_normal)
if cuda:
    generator.cuda()
optimizer_G = torch.optim.Adam(generator.parameters(), lr=0.0002, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=0.0002, betas=(0.5, 0.999))
data = torch.Tensor(np.random.RandomState(0).uniform(-1, 1, (64,) + img_shape))
dataloader = DataLoader(TensorDataset(data, torch.zeros(64).long()), batch_size=16,
                        shuffle=True)
for epoch in range(2):
    for i, (imgs, _) in enumerate(dataloader):
        valid = Variable(Tensor(imgs.size(0), 1).fill_(1.0), requires_grad=False)
        fake = Variable(Tensor(imgs.size(0), 1).fill_(0.0), requires_grad=False)
        real_imgs = Variable(imgs.type(Tensor))
        optimizer_G.zero_grad()
        z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], latent_dim))))
        gen_imgs = generator(z)
        g_loss = adversarial_loss(discriminator(gen_imgs), valid)
        g_loss.backward()
        optimizer_G.step()
        optimizer_D.zero_grad()
        real_loss = adversarial_loss(discriminator(real_imgs), valid)
        fake_loss = adversarial_loss(discriminator(gen_imgs.detach()), fake)
        d_loss = (real_loss + fake_loss) / 2
        d_loss.backward()
        optimizer_D.step()
        for p in discriminator.parameters():          # WGAN's weight clipping idiom
            p.data.clamp_(-0.5, 0.5)
        masked = real_imgs.clone()                      # a context encoder's mask
        masked[:, :, 1:3, 1:3] = 1
        results.append((d_loss.item(), g_loss.item(), float(masked.data.mean())))
results.append(max(float(p.data.abs().max()) for p in discriminator.parameters()))
"""


def _run(body):
    scope = {"results": []}
    exec(compile(HEADER + textwrap.dedent(body), "<tutorial>", "exec"), scope)
    return scope["results"]


def test_a_vanilla_gan_tutorial_script_runs_with_only_the_import_changed():
    results = _run(VANILLA_AND_WGAN)
    losses, biggest_weight = results[:-1], results[-1]
    assert len(losses) == 8
    assert all(np.isfinite(d) and np.isfinite(g) for d, g, _ in losses)
    assert biggest_weight <= 0.5                  # p.data.clamp_ changed the parameters
    assert all(m > -1.0 for _, _, m in losses)
