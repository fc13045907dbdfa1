fn main() {
    println!("pyimage: under construction");
}
