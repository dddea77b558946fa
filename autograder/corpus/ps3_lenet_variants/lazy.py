"""lazy layers: the textbook's (d2l) way, nn.LazyConv2d / nn.LazyLinear / nn.LazyBatchNorm, shapes inferred."""
# kind: correct

# %% build_lenet5
def build_lenet5():
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120), nn.Sigmoid(),
        nn.LazyLinear(84), nn.Sigmoid(),
        nn.LazyLinear(10))

# %% build_lenet_relu_max
def build_lenet_relu_max():
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120), nn.ReLU(),
        nn.LazyLinear(84), nn.ReLU(),
        nn.LazyLinear(10))

# %% build_lenet_bn
def build_lenet_bn():
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.LazyBatchNorm2d(), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.LazyBatchNorm2d(), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120), nn.LazyBatchNorm1d(), nn.Sigmoid(),
        nn.LazyLinear(84), nn.LazyBatchNorm1d(), nn.Sigmoid(),
        nn.LazyLinear(10))

# %% build_lenet_wide
def build_lenet_wide(c1, c2):
    return nn.Sequential(
        nn.LazyConv2d(c1, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.LazyConv2d(c2, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.LazyLinear(120), nn.ReLU(), nn.LazyLinear(84), nn.ReLU(), nn.LazyLinear(10))

# %% train_variant
def train_variant(model, train_loader, num_epochs, lr, device):
    """Train ``model`` with minibatch SGD; returns {"train_loss": [...], "train_acc": [...]}."""
    model.to(device)
    # lazy layers get their shapes from the first batch, before the optimizer sees them
    X0, _ = next(iter(train_loader))
    with torch.no_grad():
        model.eval()(X0.to(device))
    loss = nn.CrossEntropyLoss()
    trainer = torch.optim.SGD(model.parameters(), lr=lr)
    history = {"train_loss": [], "train_acc": []}
    for epoch in range(num_epochs):
        model.train()
        metric = [0.0, 0.0, 0]  # sum of losses, correct predictions, examples
        for X, y in train_loader:
            X, y = X.to(device), y.to(device)
            y_hat = model(X)
            l = loss(y_hat, y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
            with torch.no_grad():
                metric[0] += float(l) * X.shape[0]
                metric[1] += float((y_hat.argmax(axis=1) == y).float().sum())
                metric[2] += X.shape[0]
        history["train_loss"].append(metric[0] / metric[2])
        history["train_acc"].append(metric[1] / metric[2])
    return history
