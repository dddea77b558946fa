"""train_variant that reports the number of correct predictions instead of the fraction."""
# kind: wrong
# fails: test_train_variant_history test_train_variant_history_values

# %% train_variant
def train_variant(model, train_loader, num_epochs, lr, device):
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    history = {"train_loss": [], "train_acc": []}
    for _ in range(num_epochs):
        model.train()
        total, correct, seen = 0.0, 0, 0
        for X, y in train_loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            y_hat = model(X)
            loss = nn.functional.cross_entropy(y_hat, y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            correct += (y_hat.argmax(1) == y).sum().item()
            seen += len(y)
        history["train_loss"].append(total / seen)
        history["train_acc"].append(correct)
    return history
