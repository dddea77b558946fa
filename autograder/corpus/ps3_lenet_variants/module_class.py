"""nn.Module subclasses: layers registered in another order than forward uses them, one activation module reused."""
# kind: correct

# %% build_lenet5
class LeNet(nn.Module):
    def __init__(self, act=nn.Sigmoid, pool=nn.AvgPool2d):
        super().__init__()
        # the linear layers first, the convolutions last: registration order is not the forward order
        self.fc3 = nn.Linear(84, 10)
        self.fc2 = nn.Linear(120, 84)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.act1, self.act2, self.act3, self.act4 = act(), act(), act(), act()
        self.pool1, self.pool2 = pool(2, 2), pool(2, 2)

    def forward(self, X):
        X = self.pool1(self.act1(self.conv1(X)))
        X = self.pool2(self.act2(self.conv2(X)))
        X = torch.flatten(X, start_dim=1)
        X = self.act3(self.fc1(X))
        X = self.act4(self.fc2(X))
        return self.fc3(X)


def build_lenet5():
    return LeNet()

# %% build_lenet_relu_max
class LeNetReLU(nn.Module):
    """One nn.ReLU() module, called after every layer that needs it."""

    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.flatten = nn.Flatten()
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, X):
        X = self.pool(self.relu(self.conv1(X)))
        X = self.pool(self.relu(self.conv2(X)))
        X = self.flatten(X)
        return self.fc3(self.relu(self.fc2(self.relu(self.fc1(X)))))


def build_lenet_relu_max():
    return LeNetReLU()

# %% build_lenet_bn
class LeNetBN(nn.Module):
    def __init__(self):
        super().__init__()
        # all convolutions, then all batch norms, then the linear layers
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        self.bn1, self.bn2 = nn.BatchNorm2d(6), nn.BatchNorm2d(16)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)
        self.bn3, self.bn4 = nn.BatchNorm1d(120), nn.BatchNorm1d(84)
        self.sig = nn.Sigmoid()
        self.pool = nn.AvgPool2d(2, 2)

    def forward(self, X):
        X = self.pool(self.sig(self.bn1(self.conv1(X))))
        X = self.pool(self.sig(self.bn2(self.conv2(X))))
        X = X.reshape(X.shape[0], -1)
        X = self.sig(self.bn3(self.fc1(X)))
        X = self.sig(self.bn4(self.fc2(X)))
        return self.fc3(X)


def build_lenet_bn():
    return LeNetBN()

# %% build_lenet_wide
def build_lenet_wide(c1, c2):
    layers = []
    for c_in, c_out, padding in [(1, c1, 2), (c1, c2, 0)]:
        layers.append(nn.Conv2d(c_in, c_out, kernel_size=(5, 5), padding=padding))
        layers.append(nn.ReLU(inplace=True))
        layers.append(nn.MaxPool2d(kernel_size=2))
    layers.append(nn.Flatten())
    sizes = [c2 * 5 * 5, 120, 84]
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU(inplace=True)]
    layers.append(nn.Linear(84, 10))
    return nn.Sequential(*layers)

# %% train_variant
def train_variant(model, train_loader, num_epochs, lr, device):
    import torch.nn.functional as F

    model.to(device)
    opt = torch.optim.SGD(params=model.parameters(), lr=lr)
    train_loss, train_acc = [], []
    epoch = 0
    while epoch < num_epochs:
        model.train(True)
        total = torch.zeros((), device=device)
        right = torch.zeros((), dtype=torch.long, device=device)
        count = 0
        for batch in train_loader:
            inputs, labels = (t.to(device) for t in batch)
            out = model(inputs)
            loss = F.cross_entropy(out, labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach() * labels.numel()
            right += (out.detach().argmax(dim=-1) == labels).sum()
            count += labels.numel()
        train_loss.append((total / count).item())
        train_acc.append(right.item() / count)
        epoch += 1
    return dict(train_loss=train_loss, train_acc=train_acc)
