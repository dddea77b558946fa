"""helper functions and named layers: blocks built by a helper, an OrderedDict, extra random draws everywhere."""
# kind: correct

# %% build_lenet5
from collections import OrderedDict


def _block(c_in, c_out, padding, act, pool):
    """conv, activation, pooling: one stage of LeNet."""
    return [nn.Conv2d(c_in, c_out, 5, padding=padding), act(), pool(2)]


def _head(act):
    return [nn.Flatten(), nn.Linear(16 * 5 * 5, 120), act(), nn.Linear(120, 84), act(),
            nn.Linear(84, 10)]


def build_lenet5():
    print("a random draw the tests do not expect:", torch.rand(3))
    layers = (_block(1, 6, 2, nn.Sigmoid, nn.AvgPool2d) + _block(6, 16, 0, nn.Sigmoid, nn.AvgPool2d)
              + _head(nn.Sigmoid))
    return nn.Sequential(OrderedDict((f"layer{i}", m) for i, m in enumerate(layers)))

# %% build_lenet_relu_max
def build_lenet_relu_max():
    np.random.rand(5)
    random.random()
    torch.randn(10)
    layers = (_block(1, 6, 2, nn.ReLU, nn.MaxPool2d) + _block(6, 16, 0, nn.ReLU, nn.MaxPool2d)
              + _head(nn.ReLU))
    return nn.Sequential(*layers)

# %% build_lenet_bn
def _conv_bn(c_in, c_out, padding):
    return [nn.Conv2d(c_in, c_out, kernel_size=5, padding=padding), nn.BatchNorm2d(c_out),
            nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2)]


def _linear_bn(n_in, n_out):
    return [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.Sigmoid()]


def build_lenet_bn():
    torch.rand(7)
    return nn.Sequential(*_conv_bn(1, 6, 2), *_conv_bn(6, 16, 0), nn.Flatten(),
                         *_linear_bn(400, 120), *_linear_bn(120, 84), nn.Linear(84, 10))

# %% build_lenet_wide
def build_lenet_wide(c1, c2):
    torch.rand(c1 + c2)
    features = nn.Sequential(*_block(1, c1, 2, nn.ReLU, nn.MaxPool2d),
                             *_block(c1, c2, 0, nn.ReLU, nn.MaxPool2d))
    classifier = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 5 * 5, 120), nn.ReLU(),
                               nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    return nn.Sequential(features, classifier)

# %% train_variant
def _one_epoch(model, loader, optimizer, device):
    model.train()
    loss_sum, hits, n = 0.0, 0, 0
    for X, y in loader:
        X = X.to(device)
        y = y.to(device)
        optimizer.zero_grad(set_to_none=True)
        logits = model(X)
        loss = nn.functional.cross_entropy(logits, y, reduction="sum")
        (loss / len(y)).backward()
        optimizer.step()
        loss_sum += loss.item()
        hits += int((logits.argmax(1) == y).sum())
        n += len(y)
    return loss_sum / n, hits / n


def train_variant(model, train_loader, num_epochs, lr, device):
    torch.rand(2)  # students print things
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses, accs = [], []
    for _ in range(num_epochs):
        loss, acc = _one_epoch(model, train_loader, optimizer, device)
        losses += [loss]
        accs += [acc]
    return {"train_loss": losses, "train_acc": accs}
