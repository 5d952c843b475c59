"""The site serves the demo course, and unknown pages get a page in the site's layout."""


def test_home_lists_the_demo_course_and_its_modules(client, demo):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for course in demo.courses:
        assert course.title in page
        for ref in course.module_refs:
            assert ref.module.title in page


def test_unknown_page_is_a_404_page_in_the_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Back to the courses" in response.get_data(as_text=True)
