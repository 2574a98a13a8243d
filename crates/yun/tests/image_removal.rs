//! Images leave the nodes with their last record: content yun pulled and nothing uses is
//! removed from the engine when its record goes, while an operator's hand-loaded image, or
//! one a container still uses, stays. (Through the typed client.)

use yun_api::containers::CreateContainer;
use yun_api::{ClientError, ErrorCode};
use yun_testkit::TestCluster;

#[tokio::test(flavor = "multi_thread")]
async fn a_pulled_image_leaves_the_node_with_its_last_record_and_not_before() {
    let cluster = TestCluster::start().await;
    let registry = yun_testkit::LocalRegistry::start().await;
    let reference = registry.push(
        &yun_testkit::plain_testbox_image(),
        &format!("removal-{}/app", cluster.cluster_id()),
    );
    // Pushing left the name on this engine; the renter's pull is then the only holder.
    yun_testkit::docker()
        .await
        .remove_image(&reference, None, None)
        .await
        .expect("untag the pushed name");
    assert!(!yun_testkit::image_on_engine(&reference).await);

    let dana = cluster
        .api
        .sign_up("dana", "dana-rides-a-blue-tram")
        .await
        .client();
    let image = dana.pull(&reference).await.unwrap();
    assert!(
        yun_testkit::image_on_engine(&reference).await,
        "the pull brought it"
    );

    let spec = CreateContainer {
        image: image.id.clone(),
        ports: Some(Vec::new()),
        ..Default::default()
    };
    let (c, _) = dana.create_container(&spec, None).await.unwrap();
    match dana.remove_image(&image.id).await {
        Err(ClientError::Api { code, .. }) => assert_eq!(code, ErrorCode::Conflict),
        other => panic!("removing an image a container uses: {other:?}"),
    }
    assert!(
        yun_testkit::image_on_engine(&reference).await,
        "a used image stays"
    );

    dana.remove_container(&c.id).await.unwrap();
    dana.remove_image(&image.id).await.unwrap();
    assert!(
        !yun_testkit::image_on_engine(&reference).await,
        "the record went, and with it what yun pulled"
    );
    assert!(
        yun_testkit::image_on_engine(&yun_testkit::plain_testbox_image()).await,
        "the same content under another name stays"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operators_hand_loaded_image_stays_when_it_leaves_the_catalog() {
    let cluster = TestCluster::start().await;
    let local = yun_testkit::plain_testbox_image();
    let admin = cluster.admin.client();
    let image = admin.publish_image(&local).await.unwrap();
    admin.unpublish_image(&image.id).await.unwrap();
    assert!(
        yun_testkit::image_on_engine(&local).await,
        "yun did not pull it, so it does not remove it"
    );
}
