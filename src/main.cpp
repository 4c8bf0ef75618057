#include <kurator/cli/app.hpp>

int main(int argc, char** argv) { return kurator::cli::run(argc, argv); }
