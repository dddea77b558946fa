"""bob: no batch norm after the linear layers, and a training loop that never steps."""

# %% build_lenet5
def build_lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))

# %% build_lenet_relu_max
def build_lenet_relu_max():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

# %% build_lenet_bn
def build_lenet_bn():
    # mistake: batch norm only after the convolutions
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))

# %% build_lenet_wide
def build_lenet_wide(c1, c2):
    return nn.Sequential(
        nn.Conv2d(1, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(c2 * 25, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

# %% train_variant
def train_variant(model, train_loader, num_epochs, lr, device):
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    history = {"train_loss": [], "train_acc": []}
    for _ in range(num_epochs):
        total, correct, seen = 0.0, 0, 0
        for X, y in train_loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            y_hat = model(X)
            loss = nn.functional.cross_entropy(y_hat, y)
            loss.backward()  # mistake: optimizer.step() is missing
            total += loss.item() * len(y)
            correct += (y_hat.argmax(1) == y).sum().item()
            seen += len(y)
        history["train_loss"].append(total / seen)
        history["train_acc"].append(correct / seen)
    return history
