// loftd: the master process (placeholder until the master lands).
int main() { return 0; }
