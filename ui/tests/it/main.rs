//! The pages' integration tests: plain HTTP tests in process, and browser tests that drive
//! headless Chromium through chromedriver.

mod browser;
mod pages;
mod support;
mod webdriver;
